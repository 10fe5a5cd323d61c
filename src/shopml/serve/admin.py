"""Administrative model state shared by every worker and kept across restarts: one small JSON file.

An administrator's ``unload`` must stop a model on every worker, not only on the one that answered, and
must still hold after a worker (or the server) restarts. The worker that takes the call records it in
``serve-admin.json`` beside the registry (read-modify-write under an ``fcntl.flock``, replaced
atomically); every worker's registry poll checks the file's fingerprint (size, mtime, inode: a few µs)
and applies a change, as it applies an alias move.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

__all__ = ["AdminState"]

log = logging.getLogger(__name__)


class AdminState:
    """The set of model names an administrator unloaded, in ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None

    def read(self) -> set[str]:
        """The unloaded names now (an absent file: none; an unreadable one is logged and read as none)."""
        self._seen = self._fingerprint()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            log.error("admin state %s cannot be read (%s): no model is held unloaded", self.path, exc)
            return set()
        names = data.get("unloaded") if isinstance(data, dict) else None
        return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()

    def changed(self) -> bool:
        """Whether the file changed since the last :meth:`read` (by any worker)."""
        return self._fingerprint() != self._seen

    def update(self, *, unload: str | None = None, load: str | None = None) -> set[str]:
        """Add ``unload`` to / remove ``load`` from the set, atomically across processes; the new set."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            names = self.read()
            if unload is not None:
                names.add(unload)
            if load is not None:
                names.discard(load)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"unloaded": sorted(names)}), encoding="utf-8")
            os.replace(tmp, self.path)
            self._seen = self._fingerprint()
        return names

    def _fingerprint(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns, st.st_ino
