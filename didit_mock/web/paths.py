"""Path helpers: canonical UUID segments (anything else is the router's HTML 404)."""

from __future__ import annotations

import re

from starlette.requests import Request

from ..domain.errors import HtmlNotFound

_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_canonical_uuid(text: str) -> bool:
    return bool(_CANONICAL_UUID.match(text))


def uuid_param(request: Request, name: str) -> str:
    """A path UUID, or Django's HTML 404 when it is not canonical (lower-case, hyphenated)."""
    value = request.path_params[name]
    if not is_canonical_uuid(value):
        raise HtmlNotFound(value)
    return value
