"""The FHIR R4 facade: the SAS slot search, IHE ITI Scheduling, webhooks and partner access."""
