"""The mock's own control surface under /_mock: the admin API, the dashboard, the served OpenAPI."""
