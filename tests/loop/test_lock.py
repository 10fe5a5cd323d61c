"""The loop lock: exclusive between processes; a holder that dies releases it (``fcntl.flock``)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from shopml.errors import NotReadyError
from shopml.loop.lock import LoopLock

HOLD = (
    "import sys, time; from shopml.loop.lock import LoopLock; LoopLock(sys.argv[1]).acquire();"
    " print('held', flush=True); time.sleep(60)"
)


def test_second_holder_is_refused_while_owner_lives_and_takes_over_when_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "loop.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(NotReadyError, match=f"held by pid {holder.pid} on .* since 20"):
            LoopLock(path).acquire()
        assert (LoopLock(path).owner() or {}).get("pid") == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert LoopLock(path).owner() is None  # the kernel dropped the dead holder's lock
    lock = LoopLock(path).acquire()
    assert lock.held and lock.broke_stale is not None and lock.broke_stale["pid"] == holder.pid
    lock.release()
    assert path.exists() and path.read_bytes() == b""  # never deleted: emptied on release
    with LoopLock(path) as again:
        assert again.held and again.broke_stale is None


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "loop.lock"
    with LoopLock(path) as first:
        with pytest.raises(NotReadyError, match=f"held by pid {os.getpid()}"):
            LoopLock(path).acquire()
        with pytest.raises(NotReadyError, match="already held by this LoopLock"):
            first.acquire()
    path.write_text('{"pid": 12', encoding="utf-8")  # a torn record of a holder killed mid-write
    with LoopLock(path) as lock:
        assert lock.broke_stale == {"pid": -1, "host": "?", "started": 0.0}


def _hold_until_killed(path: str, ready: Event) -> None:
    LoopLock(Path(path)).acquire()
    ready.set()
    time.sleep(60)


def _racer(
    path: str,
    trials: int,
    start: Barrier,
    done: Barrier,
    inside: Synchronized,  # type: ignore[type-arg]
    most: Synchronized,  # type: ignore[type-arg]
    wins: Any,
    took_over: Any,
) -> None:
    for trial in range(trials):
        start.wait()
        lock = LoopLock(Path(path))
        try:
            lock.acquire()
        except NotReadyError:
            pass
        else:
            with inside.get_lock():
                inside.value += 1
                most.value = max(most.value, inside.value)
            with wins.get_lock():
                wins[trial] += 1
            if lock.broke_stale is not None:
                with took_over.get_lock():
                    took_over[trial] += 1
            time.sleep(0.01)  # hold a while: the other racers try while it is held
            with inside.get_lock():
                inside.value -= 1
            lock.release()
        done.wait()


def test_racers_breaking_a_dead_holders_lock_never_both_hold_it(tmp_path: Path) -> None:
    """Each trial: a holder is SIGKILLed, then three processes race for its lock at one barrier."""
    ctx = mp.get_context("fork")
    path, trials, racers = str(tmp_path / "loop.lock"), 80, 3
    start, done = ctx.Barrier(racers + 1), ctx.Barrier(racers + 1)
    inside, most = ctx.Value("i", 0), ctx.Value("i", 0)
    wins, took_over = ctx.Array("i", trials), ctx.Array("i", trials)
    procs = [
        ctx.Process(target=_racer, args=(path, trials, start, done, inside, most, wins, took_over))
        for _ in range(racers)
    ]
    for p in procs:
        p.start()
    try:
        for _ in range(trials):
            ready = ctx.Event()
            holder = ctx.Process(target=_hold_until_killed, args=(path, ready))
            holder.start()
            assert ready.wait(30), "the holder did not take the lock"
            os.kill(holder.pid or 0, signal.SIGKILL)
            holder.join()
            start.wait(timeout=60)
            done.wait(timeout=60)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    assert most.value == 1  # never two holders at once
    assert min(wins) >= 1  # every trial, someone took over the dead holder's lock
    assert list(took_over) == [1] * trials  # exactly the first winner found the dead holder's record
