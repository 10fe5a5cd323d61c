"""Crash safety: ``shopml loop once`` SIGKILLed at the worst points, then a plain pass recovers, and the
registry and the event store end exactly as after an uninterrupted pass. ``loop run`` stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shopml.config import Workspace
from shopml.loop import FAILPOINT_ENV, Loop
from shopml.loop.policy import LoopPolicy
from shopml.loop.state import StateStore
from shopml.monitor.events import Event, EventStore
from shopml.registry import Registry

from .conftest import day

CLI = [sys.executable, "-c", "from shopml.cli.main import app; app()"]


def _once(ws: Workspace, failpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAILPOINT_ENV}
    if failpoint:
        env[FAILPOINT_ENV] = failpoint
    cmd = [*CLI, "loop", "once", "--now", day(38).isoformat(), "--workspace", str(ws.root)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ws.root.parent)


def _check_consistent(ws: Workspace) -> None:
    events = EventStore(ws).read(model="fraud")
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids)), ids
    tagged = [v.tags.get("shopml.retrain_id") for v in Registry(ws).versions("fraud")]
    retrains = [t for t in tagged if t]
    assert len(retrains) == len(set(retrains)), f"a retrain registered twice: {tagged}"
    StateStore(ws.root / "loop" / "fraud" / "state.json").load()  # never torn


def test_killed_at_every_step_then_recovers(champion_ws: Workspace, loop_policy: LoopPolicy) -> None:
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
    expected_steps = {
        "requested": "requested",
        "registering": "trained",
        "gated": "gated",
        "alias_moved": "gated",
    }
    for point, step in expected_steps.items():
        proc = _once(champion_ws, point)
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
        state = StateStore(champion_ws.root / "loop" / "fraud" / "state.json").load()
        assert state.current is not None and state.current.step == step, (point, state.current)
        assert (champion_ws.root / "loop" / "fraud" / "loop.lock").exists()  # left behind by the dead owner
        _check_consistent(champion_ws)
    registry = Registry(champion_ws)
    assert registry.aliases("fraud")["champion"] == 2  # the alias moved just before the last kill …
    assert not EventStore(champion_ws).read(kind="promotion")  # … but its event is not written yet

    done = _once(champion_ws, None)  # breaks the stale lock, resumes, finishes
    assert done.returncode == 0, done.stderr[-2000:]
    _check_consistent(champion_ws)
    kinds = [e.kind for e in EventStore(champion_ws).read(model="fraud")]
    assert kinds == ["drift", "trigger", "retrain", "gate", "promotion"]
    promotion = EventStore(champion_ws).read(kind="promotion")[0]
    assert promotion.evidence["version"] == 2 and promotion.evidence["previous"] == 1
    assert sorted(v.version for v in registry.versions("fraud")) == [1, 2]
    state = StateStore(champion_ws.root / "loop" / "fraud" / "state.json").load()
    assert state.current is None and state.history[-1]["outcome"] == "promoted"
    assert not (champion_ws.root / "loop" / "fraud" / "loop.lock").exists()
    assert Loop(champion_ws, loop_policy).step(day(38)) == []  # idempotent: nothing new


def test_loop_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cmd = [*CLI, "loop", "run", "--interval", "0.2", "--workspace", str(ws)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        state = ws / "loop" / "fraud" / "state.json"
        while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert state.exists(), proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "loop stopped after" in out
    assert not (ws / "loop" / "fraud" / "loop.lock").exists()
