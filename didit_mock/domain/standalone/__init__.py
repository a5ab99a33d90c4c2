"""The standalone verification APIs: calls without a session, made by the session's own builders."""
