"""The vendored OpenAPI documents, read once per process and never changed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).parent
DIDIT_DOCUMENT = HERE / "didit-openapi-v3.json"
ADDITIONS_DOCUMENT = HERE / "additions.json"
#: How an operation of the additions is marked in the served description.
ADDITION_MARK = "x-didit-mock-addition"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@cache
def didit_document() -> dict[str, Any]:
    """Didit's own OpenAPI document, as vendored (see SOURCE.md)."""
    return orjson.loads(DIDIT_DOCUMENT.read_bytes())  # type: ignore[no-any-return]


@cache
def additions_document() -> dict[str, Any]:
    """The operations Didit serves that its document lacks, in the same form."""
    return orjson.loads(ADDITIONS_DOCUMENT.read_bytes())  # type: ignore[no-any-return]


@cache
def api_document() -> dict[str, Any]:
    """Didit's document with the additions merged in; their operations carry `ADDITION_MARK`.

    Components of the additions join Didit's (their names do not collide: a test checks it).
    """
    didit = didit_document()
    extra = additions_document()
    paths: dict[str, Any] = {path: dict(item) for path, item in didit["paths"].items()}
    for path, item in extra.get("paths", {}).items():
        merged = paths.setdefault(path, {})
        for key, value in item.items():
            merged[key] = {**value, ADDITION_MARK: True} if key in HTTP_METHODS else value
    components: dict[str, Any] = {key: dict(value) for key, value in didit.get("components", {}).items()}
    for kind, entries in extra.get("components", {}).items():
        components.setdefault(kind, {}).update(entries)
    return {**didit, "paths": paths, "components": components}
