"""The Jinja2 templates of the hosted page and the dashboard, built once on first use, and their icon."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import TYPE_CHECKING

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

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
    loaded.env.filters["breakable_url"] = breakable_url
    return loaded


#: A URL's origin: the scheme and, when there is one, `//` and the authority (host and port).
URL_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?://[^/?#]*)?")
#: The places after which the rest of a URL may wrap.
URL_BREAKS = re.compile(r"(?<=[/?&#])")


def breakable_url(url: str) -> Markup:
    """A URL as HTML that wraps between its parts, never inside the host.

    The origin (`https://host:port`) and each part of the rest that ends with `/`, `?`, `&` or `#`
    are boxes of their own (`.url-origin`, `.url-part`): a line ends only between two of them,
    unless one part alone is longer than a line.
    """
    text = str(url)
    found = URL_ORIGIN.match(text)
    origin = found.group(0) if found else ""
    parts = [Markup('<span class="url-part">{}</span>').format(part)
             for part in URL_BREAKS.split(text[len(origin):]) if part]
    head = Markup('<span class="url-origin">{}</span>').format(origin) if origin else Markup()
    return Markup('<span class="url">{}{}</span>').format(head, Markup().join(parts))


@functools.cache
def favicon_bytes() -> bytes:
    """`templates/favicon.ico`: the brand mark at 16, 32 and 48 px (made by scripts/make_favicon.py)."""
    return (resources.files("didit_mock") / "templates" / "favicon.ico").read_bytes()


async def favicon(request: Request) -> Response:
    """The site icon of the hosted page and the dashboard (browsers ask for it on every page)."""
    return Response(favicon_bytes(), media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
