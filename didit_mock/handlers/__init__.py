"""Handlers with real rules, one module per API family, registered by operationId."""
