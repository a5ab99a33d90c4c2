"""HTTP plumbing: the operation route and dispatch, validation, errors, pagination, the gateway."""
