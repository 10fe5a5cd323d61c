"""The loop lock: exclusive between processes, stale locks of dead owners are broken."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from shopml.errors import NotReadyError
from shopml.loop.lock import LoopLock


def test_second_holder_is_refused_while_owner_lives(tmp_path: Path) -> None:
    path = tmp_path / "loop.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    record = {"pid": holder.pid, "host": socket.gethostname(), "started": time.time()}
    path.write_text(json.dumps(record), encoding="utf-8")  # what LoopLock.acquire writes in the holder
    try:
        with pytest.raises(NotReadyError, match=f"held by pid {holder.pid}"):
            LoopLock(path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = LoopLock(path).acquire()  # the owner died: its lock is stale and broken
    assert lock.held and lock.broke_stale is not None and lock.broke_stale["pid"] == holder.pid
    lock.release()
    assert not path.exists()


def test_old_or_torn_lock_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "loop.lock"
    path.write_text(
        json.dumps({"pid": 1, "host": "elsewhere", "started": time.time() - 7200}), encoding="utf-8"
    )
    with LoopLock(path, stale_after=timedelta(hours=1)) as lock:
        assert lock.broke_stale is not None
    path.write_text('{"pid": 12', encoding="utf-8")  # torn write of a killed owner
    with LoopLock(path) as lock:
        assert lock.held
    path.write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": time.time()}), encoding="utf-8")
    with pytest.raises(NotReadyError, match="held by pid 1 on elsewhere"):
        LoopLock(path).acquire()
