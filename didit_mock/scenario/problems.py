"""What a refused scenario document carries: each problem with its source and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Problems reported for one document at most; the rest are counted in a last line.
MAX_REPORTED = 100


@dataclass(frozen=True)
class Problem:
    """One reason a document is refused, at a line of its source (None: the whole file)."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}" if self.line else f"{self.source}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message, "text": str(self)}


class ScenarioInvalid(Exception):
    """A document (or a set of files) that cannot be loaded; `problems` says why and where."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


def capped(problems: Sequence[Problem], source: str, limit: int = MAX_REPORTED) -> list[Problem]:
    """The problems sorted by line, the first `limit` of them and a line counting the others."""
    ordered = sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)
    if len(ordered) <= limit:
        return ordered
    hidden = len(ordered) - limit
    return [*ordered[:limit], Problem(source, None, f"... and {hidden} more problem(s) not shown")]
