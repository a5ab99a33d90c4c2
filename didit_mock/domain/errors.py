"""The one exception hierarchy of the domain; the API layer renders each as Didit's JSON body."""

from __future__ import annotations

from typing import Any

PERMISSION_DENIED = "You do not have permission to perform this action."
CREDENTIALS_INVALID = "Authentication credentials were not provided or are invalid."
INVALID_API_KEY = "Invalid API Key."
NOT_FOUND = "Not found."
SESSION_NOT_FOUND = "Session not found."
FIELD_REQUIRED = "This field is required."


class DiditError(Exception):
    """An error with the exact HTTP status and body the real API answers."""

    status_code = 400

    def __init__(self, body: Any, status_code: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(body)
        self.body = body
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}


class ValidationFailed(DiditError):
    """400: a body such as `{"field": ["message"]}`, `{"field": "message"}` or a bare list."""

    status_code = 400

    @classmethod
    def field(cls, name: str, message: str, as_list: bool = True) -> ValidationFailed:
        return cls({name: [message] if as_list else message})

    @classmethod
    def detail(cls, message: str) -> ValidationFailed:
        return cls({"detail": message})


def not_a_dictionary(value: Any) -> ValidationFailed:
    """DRF's answer to a body that is not a JSON object, the same on every route."""
    kind = "null" if value is None else {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(
        type(value), type(value).__name__)
    return ValidationFailed({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]})


class NotFound(DiditError):
    status_code = 404

    def __init__(self, message: str = NOT_FOUND):
        super().__init__({"detail": message})


class PermissionDenied(DiditError):
    status_code = 403

    def __init__(self, message: str = PERMISSION_DENIED, key: str = "detail"):
        super().__init__({key: message})


class NotAuthenticated(DiditError):
    status_code = 401

    def __init__(self, message: str = INVALID_API_KEY):
        super().__init__({"detail": message})


class RateLimited(DiditError):
    status_code = 429

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__({"detail": message}, headers=headers)


class HtmlNotFound(Exception):
    """A path the real router does not match (e.g. a malformed UUID): Django's HTML 404 page."""
