"""A cross-process lock so two loop passes (two retrains) of one model never run at once.

The lock is an ``fcntl.flock`` on a lock file, taken without blocking and held as long as the open file
lives: until :meth:`LoopLock.release`, or until the holder process ends, however it ends — the kernel drops
the lock of a killed process, so "stale" needs no guessing and no breaking. The file itself is never
deleted (deleting a lock file that another process has open lets two processes lock two different files);
the holder writes its pid, host and start time into it for the error message others get, and empties it
on release, so a record found on taking the lock is one a holder left when it died (:attr:`broke_stale`).

Why not a file created with ``O_EXCL`` and broken when its pid is dead or it is old: two processes that
break the same stale lock at once can both hold it (28 of 60 trials with three racers). ``flock`` is local
to one host; on a network file system whose ``flock`` is not shared between hosts, run a model's loop on
one host.

>>> import tempfile
>>> from pathlib import Path
>>> lock = LoopLock(Path(tempfile.mkdtemp()) / "loop.lock")
>>> with lock:
...     lock.held
True
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from shopml.errors import NotReadyError

__all__ = ["LoopLock"]


def _record(raw: bytes) -> dict[str, Any] | None:
    """The holder record in the file (``None`` if empty; a torn record reads as an unknown holder)."""
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return {"pid": -1, "host": "?", "started": 0.0}
    return data if isinstance(data, dict) else {"pid": -1, "host": "?", "started": 0.0}


class LoopLock:
    """Exclusive, non-blocking lock; ``acquire`` raises :class:`NotReadyError` while another holds it.

    Two ``LoopLock`` objects on one path exclude each other also within one process. A child made by
    ``fork`` while the lock is held shares it (the lock belongs to the open file).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.held = False
        #: the record a holder that died while holding the lock left behind, if any
        self.broke_stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def owner(self) -> dict[str, Any] | None:
        """The record of the current holder (pid, host, started), or ``None`` if the lock is free."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _record(os.pread(fd, 4096, 0)) or {"pid": -1, "host": "?", "started": 0.0}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # nobody holds it (a record in the file is a dead holder's)
        finally:
            os.close(fd)

    def acquire(self) -> LoopLock:
        """Take the lock; raise :class:`NotReadyError` naming the holder if a live process holds it."""
        if self.held:
            raise NotReadyError(f"loop lock {self.path} is already held by this LoopLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _record(os.pread(fd, 4096, 0)) or {}
            os.close(fd)
            since = holder.get("started")
            when = time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(since)) if since else ""
            raise NotReadyError(
                f"loop lock {self.path} is held by pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}{when}"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self.broke_stale = _record(os.pread(fd, 4096, 0))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        self._fd = fd
        self.held = True
        return self

    def release(self) -> None:
        """Drop the lock if this object holds it (the file stays, emptied)."""
        fd, self._fd = self._fd, None
        self.held = False
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> LoopLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
