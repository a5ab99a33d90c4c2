"""Didit's API description: the vendored OpenAPI document, its additions, the overlay, `Operation`s."""
