"""The hosted verification page behind a session's url."""
