"""What the FHIR facade hears from the apps below it, inside their transactions: the webhooks'
events and the appointments reported to the SAS are written to the outbox there."""
