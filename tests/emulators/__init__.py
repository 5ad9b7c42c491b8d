"""Local HTTP servers that behave like each CRM's documented API, for connector tests."""
