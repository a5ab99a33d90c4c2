"""DRF's LimitOffsetPagination, as every Didit list answers it: `limit`/`offset` and absolute links."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request


def _number(raw: str | None, default: int, minimum: int) -> int:
    """An unusable value (not a number, below `minimum`) falls back to the default, as in DRF."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value >= minimum else default


def page_bounds(query: QueryParams, default_limit: int) -> tuple[int, int]:
    """The page's `limit` (at least 1) and `offset` (at least 0)."""
    return _number(query.get("limit"), default_limit, 1), _number(query.get("offset"), 0, 0)


def page_urls(request: Request, count: int, limit: int, offset: int) -> tuple[str | None, str | None]:
    """DRF's absolute next/previous links, keeping every other query parameter."""
    base = str(request.url.replace(query=""))
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]

    def link(new_offset: int | None) -> str:
        query = [*params, ("limit", str(limit))]
        if new_offset:
            query.append(("offset", str(new_offset)))
        return f"{base}?{urlencode(query)}"

    following = link(offset + limit) if offset + limit < count else None
    preceding = None if offset <= 0 else link(offset - limit if offset - limit > 0 else None)
    return following, preceding
