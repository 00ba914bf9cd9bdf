"""Builders: our rows as FHIR resources (plain dicts that ``http.validated`` checks)."""
