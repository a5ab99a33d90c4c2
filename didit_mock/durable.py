"""The `--state-file`, kept durable while the server runs.

The file is the JSON state document (`GET /_mock/state?all=true`). Beside it, a journal
(`<state file>.journal`) receives, about once a second, one line per tenant changed since the
last write: the tenant's whole export, or a tombstone for a tenant that is gone. Each write is
flushed to disk (`fsync`) before the next, so a server killed at any moment (SIGKILL, an OOM kill,
a power cut) loses at most the last second of acknowledged changes.

At start the document is read, the journal's lines are applied over it (a line cut short by a
crash is ignored), the result is imported, and the pair is compacted: a new document is written
atomically (a temporary file, then a rename) and the journal emptied. A clean shutdown compacts
too. Temporary files left by a write that was killed are removed at start.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import tempfile
import time
from typing import Any

from .domain.state import StateInvalid, document, export_tenant, import_registry, read_document
from .domain.tenant import Tenant, TenantRegistry

log = logging.getLogger("didit_mock.state")
TEMPORARY_PREFIX = ".didit-mock-state-"
#: Seconds between journal writes (longer while an export takes longer: twice its duration).
INTERVAL = 1.0


class StateFileError(Exception):
    """The state file cannot be read or written; the message says which file and why, in one line."""


class DurableState:
    """The state file of one registry: load, journal the changes, compact."""

    def __init__(self, registry: TenantRegistry, path: str):
        self.registry = registry
        self.path = os.path.abspath(path)
        self.journal_path = self.path + ".journal"
        self.directory = os.path.dirname(self.path)
        #: The keys whose state the file holds, with the text last written for each.
        self.written: dict[str, str] = {}
        self.last_export = 0.0

    # ---------------------------------------------------------------- start

    def load(self) -> list[Tenant]:
        """Import the document and its journal (nothing when neither exists), then compact."""
        if not os.path.isdir(self.directory):
            raise StateFileError(
                f"cannot use the state file {self.path}: the directory {self.directory} does not exist")
        self.remove_leftovers()
        entries = self.read_entries()
        if not entries:
            return []
        try:
            tenants = import_registry(self.registry, document(list(entries.values())))
        except StateInvalid as exc:
            raise StateFileError(f"cannot load the state file {self.path}: {exc}") from None
        self.compact()
        return tenants

    def remove_leftovers(self) -> None:
        for leftover in glob.glob(os.path.join(self.directory, TEMPORARY_PREFIX + "*.tmp")):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
                log.info("state: removed %s, left by a write that was interrupted", leftover)

    def read_entries(self) -> dict[str, Any]:
        """The tenants of the document with the journal applied, by API key, in order."""
        entries: dict[str, Any] = {}
        if os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as handle:
                    data = json.load(handle)
                tenants = read_document(data)
            except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise StateFileError(f"cannot load the state file {self.path}: {exc}") from None
            except StateInvalid as exc:
                raise StateFileError(f"cannot load the state file {self.path}: {exc}") from None
            for index, reader in enumerate(tenants):
                entry = reader.data
                key = entry.get("api_key")
                # An entry without a usable key stays, for the import to name what is wrong with it.
                entries[key if isinstance(key, str) else f"#{index}"] = entry
        for line in self._journal_lines():
            key = line.get("api_key")
            if not isinstance(key, str):
                continue
            if line.get("deleted") is True:
                entries.pop(key, None)
            elif isinstance(line.get("tenant"), dict):
                entries[key] = line["tenant"]
        return entries

    def _journal_lines(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.journal_path):
            return []
        lines = []
        with open(self.journal_path, "rb") as handle:
            for raw in handle:
                try:
                    value = json.loads(raw)
                except ValueError:  # the last line of a write that was killed
                    log.warning("state: ignored an incomplete line of %s", self.journal_path)
                    continue
                if isinstance(value, dict):
                    lines.append(value)
        return lines

    # ---------------------------------------------------------------- while running

    def interval(self) -> float:
        return max(INTERVAL, 2 * self.last_export)

    def flush(self) -> int:
        """Append the changed tenants (and tombstones of removed ones) to the journal, on disk."""
        started = time.perf_counter()
        lines: list[str] = []
        present = set()
        for tenant in self.registry.tenants():
            present.add(tenant.api_key)
            if not tenant.dirty and tenant.api_key in self.written:
                continue
            tenant.dirty = False
            text = json.dumps(export_tenant(tenant), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            if self.written.get(tenant.api_key) == text:
                continue
            self.written[tenant.api_key] = text
            lines.append('{"api_key":' + json.dumps(tenant.api_key) + ',"tenant":' + text + "}")
        for key in [k for k in self.written if k not in present]:
            del self.written[key]
            lines.append(json.dumps({"api_key": key, "deleted": True}))
        if lines:
            try:
                descriptor = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(descriptor, "a", encoding="utf-8") as journal:  # it holds webhook secrets
                    journal.write("\n".join(lines) + "\n")
                    journal.flush()
                    os.fsync(journal.fileno())
            except OSError as exc:
                raise StateFileError(f"cannot write the state file journal {self.journal_path}: {exc}") from None
        self.last_export = time.perf_counter() - started
        return len(lines)

    # ---------------------------------------------------------------- compaction

    def compact(self) -> int:
        """Write every tenant to the document atomically and empty the journal; the tenant count."""
        if not os.path.isdir(self.directory):
            raise StateFileError(f"cannot write the state file {self.path}: the directory {self.directory} "
                                 "no longer exists")
        entries = [export_tenant(tenant) for tenant in self.registry.tenants()]
        try:
            handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".tmp", dir=self.directory)
        except OSError as exc:
            raise StateFileError(f"cannot write the state file {self.path}: {exc}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document(entries), out, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.journal_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise StateFileError(f"cannot write the state file {self.path}: {exc}") from None
        self.written = {
            entry["api_key"]: json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            for entry in entries
        }
        for tenant in self.registry.tenants():
            tenant.dirty = False
        return len(entries)
