"""`docs/coverage.md`: every operation of the API and how the mock serves it.

Run `python -m didit_mock.coverage` to rewrite the page; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from .app import create_app
from .settings import Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"
KINDS = {
    "rules": "rules",
    "store": "generic store",
    "shape": "shape only",
}


def render() -> str:
    """The page, from the operation table, the overlay and the handlers of a default app."""
    api = create_app(Settings()).api
    rows = []
    for operation in api.table:
        placement = api.placements[operation.operation_id]
        kind = api.handlers.kind(operation.operation_id)
        rows.append((placement.family.title, operation, placement.auth.name, kind))
    rows.sort(key=lambda row: (row[0], row[1].path, row[1].method))
    counts = Counter(kind for *_, kind in rows)
    lines = [
        "# Coverage: every operation of Didit's API",
        "",
        "Every operation of Didit's OpenAPI document, and the operations Didit serves that the document",
        "lacks (marked *addition*), answers on the mock. How each one is served:",
        "",
        "- **rules**: the mock's own behaviour, with the real rules, state and side effects;",
        "- **generic store**: documents created, listed, read, changed and deleted with their real state",
        "  (ids, times, filters, pages, declared state transitions), kept per tenant and in the state file;",
        "- **shape only**: the request is authenticated and checked against the documented schema, and",
        "  the answer is the documented success response (Didit's example, or a document built from the",
        "  schema), with the header `X-Didit-Mock-Shape-Only: true`. Nothing is stored.",
        "",
        f"{len(rows)} operations: {counts['rules']} rules, {counts['store']} generic store, "
        f"{counts['shape']} shape only.",
        "",
        "| Family | Method | Path | Operation | Auth | Served by |",
        "|---|---|---|---|---|---|",
    ]
    for family, operation, auth, kind in rows:
        name = f"`{operation.operation_id}`" + (" (addition)" if operation.addition else "")
        lines.append(f"| {family} | {operation.method} | `{operation.path}` | {name} | {auth} | {KINDS[kind]} |")
    lines += [
        "",
        "Auth profiles (what a request without a usable credential is answered):",
        "",
        "| Profile | Credential | No credential | Refused credential |",
        "|---|---|---|---|",
    ]
    profiles = {p.auth.name: p.auth for p in api.placements.values()}
    for name in sorted(profiles):
        profile = profiles[name]
        refused = profile.refused
        if profile.docs_mode_refused is not None:
            refused = profile.docs_mode_refused
        credential = f"`{profile.credential}`" if profile.credential else "none (public)"
        lines.append(f"| {name} | {credential} | {profile.missing[0]} `{_detail(profile.missing[1])}` | "
                     f"{refused[0]} `{_detail(refused[1])}` |")
    return "\n".join(lines) + "\n"


def _detail(body: dict[str, object]) -> str:
    return str(body.get("detail", body))


def main() -> int:
    PAGE.write_text(render(), "utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
