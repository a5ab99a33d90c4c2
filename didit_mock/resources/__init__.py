"""The generic, tenant-scoped resource store and the families it serves."""
