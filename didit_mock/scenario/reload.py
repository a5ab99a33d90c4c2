"""Hot reload: poll the scenario files and replace the set when they change.

Every `interval` seconds the watcher takes a snapshot of the configured files and folders (the
files found and a digest of each one's bytes, so a same-size edit within one mtime tick counts).
When the snapshot differs, the whole set is loaded again: a valid set replaces the old one at
once, an invalid one leaves the last good set in place and its problems in `GET /_mock/scenarios`.
Files are read and validated in a worker thread, within the limits of `reading` (a file over the
size limit is not even read: its size and modification time stand for its digest).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from .engine import ScenarioEngine
from .loader import expand, load_paths
from .reading import MAX_DOCUMENT_BYTES

log = logging.getLogger("didit_mock.scenarios")

DEFAULT_INTERVAL = 0.5

Snapshot = tuple[tuple[str, str], ...]


def snapshot(paths: Sequence[str | Path]) -> Snapshot:
    """What the watched paths hold now: (file, digest) pairs, missing paths included."""
    files, problems = expand(paths)
    entries = [(p.source, "missing") for p in problems]
    for path in files:
        try:
            stat = path.stat()
            if stat.st_size > MAX_DOCUMENT_BYTES:  # refused anyway: not read on every poll
                digest = f"too large: {stat.st_size} bytes, modified {stat.st_mtime_ns}"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            digest = f"unreadable: {exc}"
        entries.append((str(path), digest))
    return tuple(sorted(entries))


class ScenarioWatcher:
    """The reload loop of one app, started and stopped by its lifespan."""

    def __init__(self, engine: ScenarioEngine, paths: Sequence[str | Path], last: Snapshot | None = None,
                 interval: float = DEFAULT_INTERVAL):
        self.engine = engine
        self.paths = list(paths)
        self.interval = interval
        self.last = last if last is not None else snapshot(self.paths)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="didit-mock-scenario-reload")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # the watcher must survive anything a file system does
                log.exception("scenario reload check failed")

    async def check(self) -> bool:
        """Reload when the files changed; returns whether a reload was attempted."""
        current = await asyncio.to_thread(snapshot, self.paths)
        if current == self.last:
            return False
        self.last = current
        loaded, problems = await asyncio.to_thread(load_paths, self.paths)  # bounded, and off the event loop
        if problems:
            self.engine.reload_failed(problems)
        else:
            self.engine.replace(loaded)
        return True
