"""The Jinja2 templates of the hosted page and the dashboard, built once on first use."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates


@functools.cache
def templates() -> Jinja2Templates:
    """Autoescaping, strict templates from `didit_mock/templates` (Jinja2 is imported lazily)."""
    import jinja2
    from starlette.templating import Jinja2Templates

    loaded = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.PackageLoader("didit_mock", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
    loaded.env.filters["slug"] = lambda value: str(value).lower().replace(" ", "-")
    return loaded
