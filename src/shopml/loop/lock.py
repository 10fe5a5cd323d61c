"""A cross-process lock file with stale-lock detection, so two retrains never run at once.

The lock is a file created with ``O_CREAT | O_EXCL`` holding the owner's pid, host and start time.
A lock whose owner process is gone (same host) or that is older than ``stale_after`` is stale: it is
broken and retaken, so a killed loop never blocks the next one forever.

>>> import tempfile
>>> from pathlib import Path
>>> lock = LoopLock(Path(tempfile.mkdtemp()) / "loop.lock")
>>> with lock:
...     lock.held
True
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from shopml.errors import NotReadyError

__all__ = ["LoopLock"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LoopLock:
    """Exclusive, non-blocking lock; ``acquire`` raises :class:`NotReadyError` if a live owner holds it."""

    def __init__(self, path: Path, stale_after: timedelta = timedelta(hours=6)) -> None:
        self.path = Path(path)
        self.stale_after = stale_after
        self.held = False
        self.broke_stale: dict[str, Any] | None = None

    def owner(self) -> dict[str, Any] | None:
        """The current owner record, or ``None`` if unlocked (or unreadable: a torn write counts as stale)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": -1, "host": "?", "started": 0.0}
        return data if isinstance(data, dict) else {"pid": -1, "host": "?", "started": 0.0}

    def is_stale(self, owner: dict[str, Any]) -> bool:
        """Owner dead (same host), unreadable, or older than ``stale_after``."""
        if owner.get("pid", -1) == -1:
            return True
        if time.time() - float(owner.get("started", 0.0)) > self.stale_after.total_seconds():
            return True
        return owner.get("host") == socket.gethostname() and not _alive(int(owner["pid"]))

    def acquire(self) -> LoopLock:
        """Take the lock, breaking a stale one; raise if a live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self.owner()
                if owner is None:
                    continue
                if not self.is_stale(owner):
                    raise NotReadyError(
                        f"loop lock {self.path} is held by pid {owner.get('pid')} on {owner.get('host')}"
                    ) from None
                self.broke_stale = owner
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(record))
                fh.flush()
                os.fsync(fh.fileno())
            self.held = True
            return self
        raise NotReadyError(f"could not take loop lock {self.path} (contended)")

    def release(self) -> None:
        """Drop the lock if we hold it."""
        if self.held:
            owner = self.owner()
            if owner is not None and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> LoopLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
