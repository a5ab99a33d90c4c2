"""Reading a scenario document's text into data and YAML nodes, within fixed limits.

A document is at most `MAX_DOCUMENT_BYTES` long, nested at most `MAX_DEPTH` levels, and holds at
most `MAX_VALUES` values once YAML aliases are expanded (so an alias bomb is refused before any
expansion). Anything the YAML or JSON reader cannot take (a control character, a number longer
than Python converts, an impossible date, a recursive alias) becomes a `Problem` with its line,
never an exception of another kind.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .problems import Problem, ScenarioInvalid

if TYPE_CHECKING:
    from yaml.nodes import Node

#: Largest scenario document, in bytes (UTF-8).
MAX_DOCUMENT_BYTES = 256 * 1024
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 64
#: Most values (mapping keys and values, list items) once aliases are expanded.
MAX_VALUES = 100_000

EMPTY = "the document is empty: a scenario is a mapping with keys such as sessions, phone, email, faults"


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document is read and validated.

    Reading allocates an object per value, line mark and event; with the collector running, those
    allocations set off full collections of the whole process heap, each one holding every thread
    (the server's event loop included) for tens of milliseconds. The objects die by reference
    counting right after, so pausing costs nothing. When readers overlap, the first to start turns
    the collector back on as it leaves.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def too_large(size: int) -> str:
    return f"the document is {size} bytes; scenario documents are limited to {MAX_DOCUMENT_BYTES} bytes (256 KiB)"


def check_size(text: str, source: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise ScenarioInvalid([Problem(source, None, too_large(size))])


# ---------------------------------------------------------------- YAML

def parse_yaml(text: str, source: str) -> tuple[Any, Node]:
    """The document's data and its root node; raises `ScenarioInvalid` for anything unreadable.

    libyaml scans the text when it is installed (several times faster); a document it refuses is
    read again by PyYAML's own scanner, whose messages the problems quote.
    """
    import yaml

    check_size(text, source)
    if _bounded_loader(fast=True) is not _bounded_loader(fast=False):
        try:
            return _read(text, source, fast=True)
        except yaml.YAMLError:
            pass
    try:
        return _read(text, source, fast=False)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = str(exc.problem or exc.context or "unreadable")
        if exc.context and exc.problem:
            started = f" that starts at line {exc.context_mark.line + 1}" if exc.context_mark else ""
            reason += f" ({exc.context}{started})"
        raise ScenarioInvalid([Problem(source, mark.line + 1 if mark else None, f"invalid YAML: {reason}")]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise ScenarioInvalid([Problem(source, line, f"invalid YAML: the character U+{exc.character:04X} is not "
                                                     "allowed in a YAML document")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioInvalid([Problem(source, None, f"invalid YAML: {exc}")]) from None


def _read(text: str, source: str, *, fast: bool) -> tuple[Any, Node]:
    loader = _bounded_loader(fast=fast)(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioInvalid([Problem(source, 1, EMPTY)])
            _check_expansion(node, source)
            return loader.construct_document(node), node
        except _Refused as exc:
            raise ScenarioInvalid([Problem(source, exc.line, exc.reason)]) from None
    finally:
        loader.dispose()


class _Refused(Exception):
    """A limit of this module was passed at `line`."""

    def __init__(self, line: int | None, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


@functools.cache
def _bounded_loader(*, fast: bool) -> type:
    """A safe YAML loader with a nesting limit and constructors that fail as YAML errors.

    `fast`: libyaml's parser under PyYAML's composer (PyYAML's own parser without libyaml).
    Built on first use, as PyYAML is imported lazily.
    """
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import ConstructorError, SafeConstructor
    from yaml.resolver import Resolver

    if fast and not yaml.__with_libyaml__:
        return _bounded_loader(fast=False)
    base: tuple[type, ...] = (yaml.SafeLoader,)
    if fast:
        from yaml._yaml import CParser

        base = (Composer, CParser, SafeConstructor, Resolver)

    class BoundedLoader(*base):  # type: ignore[misc]
        def __init__(self, stream: str):
            if base[0] is Composer:
                CParser.__init__(self, stream)
                Composer.__init__(self)
                SafeConstructor.__init__(self)
                Resolver.__init__(self)
            else:
                super().__init__(stream)
            self.depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise _Refused(mark.line + 1, _too_deep())
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError) as exc:  # int() past Python's digit limit, 2026-02-30, ...
                shown = node.value if isinstance(node.value, str) else ""
                shown = shown if len(shown) <= 40 else f"{shown[:20]}...({len(shown)} characters)"
                reason = str(exc).split(";")[0]
                raise ConstructorError(None, None, f"cannot read the value {shown!r} ({reason}); quote it if it is "
                                                   "text", node.start_mark) from None

    return BoundedLoader


def _check_expansion(root: Node, source: str) -> None:
    """Refuse a node graph whose expansion (aliases copied out) passes `MAX_VALUES` or `MAX_DEPTH`.

    Iterative and memoised per node, so the cost follows the nodes written, not the expansion.
    """
    from yaml.nodes import MappingNode, SequenceNode

    def children(node: Node) -> list[Node]:
        if isinstance(node, MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) of its expansion
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            parts = [sizes[id(child)] for child in children(node)]
            values = 1 + sum(p[0] for p in parts)
            depth = 1 + max((p[1] for p in parts), default=0)
            line = node.start_mark.line + 1
            if values > MAX_VALUES:
                raise _Refused(line, f"the document holds more than {MAX_VALUES} values once its aliases (*name) "
                                     "are expanded")
            if depth > MAX_DEPTH:
                raise _Refused(line, f"the document is nested deeper than {MAX_DEPTH} levels once its aliases "
                                     "(*name) are expanded")
            sizes[key] = (values, depth)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _Refused(node.start_mark.line + 1, "an alias (*name) refers to a node that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)


def duplicate_keys(node: Node | None, source: str) -> list[Problem]:
    """Keys written twice in one mapping (each node visited once, however often it is aliased)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    problems: list[Problem] = []
    seen_nodes: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, MappingNode):
            seen: dict[str, int] = {}
            for key, value in current.value:
                if isinstance(key, ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in seen and key.value != "<<":
                        problems.append(Problem(source, line, f"duplicate key {key.value!r} (first at line "
                                                              f"{seen[key.value]})"))
                    seen.setdefault(key.value, line)
                stack.append(value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return sorted(problems, key=lambda p: p.line or 0)


# ---------------------------------------------------------------- JSON

def parse_json(text: str, source: str) -> tuple[Any, Node | None]:
    """The document's data and, when the text also reads as YAML, its nodes (for line numbers)."""
    check_size(text, source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioInvalid([Problem(source, exc.lineno, f"invalid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise ScenarioInvalid([Problem(source, None, _too_deep())]) from None
    except ValueError as exc:  # a number past Python's digit limit
        raise ScenarioInvalid([Problem(source, None, f"invalid JSON: {_short(exc)}")]) from None
    _check_json_shape(data, source)
    try:  # JSON is (almost always) YAML too: its nodes give the line numbers
        loader = _bounded_loader(fast=True)(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - line numbers are a nicety; the data is already read
        node = None
    return data, node


def _check_json_shape(data: Any, source: str) -> None:
    values, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > MAX_DEPTH:
            raise ScenarioInvalid([Problem(source, None, _too_deep())])
        if values > MAX_VALUES:
            raise ScenarioInvalid([Problem(source, None, f"the document holds more than {MAX_VALUES} values")])
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _too_deep() -> str:
    return f"the document is nested deeper than {MAX_DEPTH} levels"


def _short(exc: BaseException) -> str:
    text = str(exc).split(";")[0] or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."
