"""Crash safety: ``shopml loop once`` SIGKILLed at the worst points, then a plain pass recovers, and the
registry and the event store end exactly as after an uninterrupted pass. ``loop run`` stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shopml.config import Workspace
from shopml.journal.events import Event, EventStore
from shopml.loop import FAILPOINT_ENV, Loop
from shopml.loop.lock import LoopLock
from shopml.loop.policy import LoopPolicy
from shopml.loop.state import StateStore
from shopml.registry import Registry

from .conftest import day

LOOP_CLI = [sys.executable, "-c", "from shopml.cli.loop import app; app()"]  # `shopml loop`, fewer imports


def _once(ws: Workspace, failpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAILPOINT_ENV}
    if failpoint:
        env[FAILPOINT_ENV] = failpoint
    cmd = [*LOOP_CLI, "once", "--now", day(38).isoformat(), "--workspace", str(ws.root)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ws.root.parent)


def _check_consistent(ws: Workspace) -> None:
    events = EventStore(ws).read(model="fraud")
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids)), ids
    tagged = [v.tags.get("shopml.retrain_id") for v in Registry(ws).versions("fraud")]
    retrains = [t for t in tagged if t]
    assert len(retrains) == len(set(retrains)), f"a retrain registered twice: {tagged}"
    StateStore(ws.root / "loop" / "fraud" / "state.json").load()  # never torn


def test_killed_mid_retrain_then_recovers(champion_ws: Workspace, loop_policy: LoopPolicy) -> None:
    EventStore(champion_ws).append(
        Event(
            ts=day(37),
            kind="drift",
            model="fraud",
            severity="warning",
            summary="amount shifted",
            evidence={"drifted_features": ["amount"], "model_version": 1},
        )
    )
    # killed right after registering, before the journal knows (a naive loop registers twice on resume),
    # and right after the alias moved, before the promotion event (a naive loop leaves a silent promotion);
    # the second resume also re-enters the step after the gate decision (its event is written once)
    expected_steps = {"registering": "trained", "alias_moved": "gated"}
    for point, step in expected_steps.items():
        proc = _once(champion_ws, point)
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
        state = StateStore(champion_ws.root / "loop" / "fraud" / "state.json").load()
        assert state.current is not None and state.current.step == step, (point, state.current)
        lock = champion_ws.root / "loop" / "fraud" / "loop.lock"
        assert lock.read_bytes() and LoopLock(lock).owner() is None  # the dead owner's record, lock free
        _check_consistent(champion_ws)
    registry = Registry(champion_ws)
    assert registry.aliases("fraud")["champion"] == 2  # the alias moved just before the last kill …
    assert not EventStore(champion_ws).read(kind="promotion")  # … but its event is not written yet

    done = _once(champion_ws, None)  # takes the dead owner's lock, resumes, finishes
    assert done.returncode == 0, done.stderr[-2000:]
    _check_consistent(champion_ws)
    kinds = [e.kind for e in EventStore(champion_ws).read(model="fraud")]
    assert kinds == ["drift", "trigger", "retrain", "gate", "promotion"]
    promotion = EventStore(champion_ws).read(kind="promotion")[0]
    assert promotion.evidence["version"] == 2 and promotion.evidence["previous"] == 1
    assert sorted(v.version for v in registry.versions("fraud")) == [1, 2]
    state = StateStore(champion_ws.root / "loop" / "fraud" / "state.json").load()
    assert state.current is None and state.history[-1]["outcome"] == "promoted"
    assert (champion_ws.root / "loop" / "fraud" / "loop.lock").read_bytes() == b""  # released
    assert Loop(champion_ws, loop_policy).step(day(38)) == []  # idempotent: nothing new


def test_loop_run_stops_cleanly_on_sigterm(workspace: Path) -> None:
    """SIGTERM (sent to this process while ``loop run`` runs in it) ends after the current pass, exit 0."""
    from typer.testing import CliRunner

    from shopml.cli.main import app

    state = workspace / "loop" / "fraud" / "state.json"

    def terminate_after_first_pass() -> None:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    killer = threading.Thread(target=terminate_after_first_pass, daemon=True)
    killer.start()
    result = CliRunner().invoke(app, ["loop", "run", "--interval", "0.1", "--workspace", str(workspace)])
    killer.join(timeout=5)
    assert result.exit_code == 0, result.output
    assert "stopping after this pass" in result.output and "loop stopped after" in result.output
    assert (workspace / "loop" / "fraud" / "loop.lock").read_bytes() == b""  # released
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is restored
