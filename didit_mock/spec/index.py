"""The compact operation table (`operations.json`): what routing and the query checks need, read
at start-up instead of the whole document (2.7 MB), which loads on the first body check or shape.

Generated from the vendored document and the additions by `python -m didit_mock.spec.index`; a
test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .document import api_document
from .operation import compact, operations_of

TABLE = Path(__file__).with_name("operations.json")


def table_rows() -> list[list[Any]]:
    """The compact rows of every operation, from the documents themselves."""
    document = api_document()
    return compact(operations_of(document), document)


def render(rows: list[list[Any]]) -> str:
    return "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows) + "\n]\n"


def main() -> int:
    TABLE.write_text(render(table_rows()), encoding="utf-8")
    print(f"wrote {TABLE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
