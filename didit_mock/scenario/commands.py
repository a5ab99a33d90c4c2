"""`didit-mock validate FILE|DIR...` and `didit-mock schema` (registered in `cli.EXTRA_COMMANDS`)."""

from __future__ import annotations

import argparse
import sys

from ..cli import EXTRA_COMMANDS
from .loader import load_paths


def _configure_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR", help="scenario files, or folders of *.yaml files")


def validate(args: argparse.Namespace) -> int:
    """Print every problem as `path:line: reason`; exit 1 on any, else `ok: N scenario(s)`."""
    loaded, problems = load_paths(args.paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"ok: {len(loaded)} scenario(s)")
    return 0


def schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of scenario files."""
    from .schema import json_schema_text  # the models load only for this command

    sys.stdout.write(json_schema_text())
    return 0


def register() -> None:
    EXTRA_COMMANDS.setdefault("validate", ("check scenario files (path:line: reason)", _configure_validate, validate))
    EXTRA_COMMANDS.setdefault("schema", ("print the JSON Schema of scenario files", lambda parser: None, schema))


register()
