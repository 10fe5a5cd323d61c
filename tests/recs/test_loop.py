"""The recommender in the retrain loop: the challenger trained from the sessions tables known at the
retrain moment, gated against the champion on Recall@20 over the fresh sessions before it (paired
bootstrap over whole sessions), registered and promoted through the loop's journalled steps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shopml.config import Workspace
from shopml.loop import Loop, LoopPolicy
from shopml.recs.gru import GRUParams
from shopml.recs.loop import RecsSteps, holdout_requests
from shopml.registry import Registry

TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)


def test_holdout_requests_label_each_event_with_the_next() -> None:
    from datetime import UTC, datetime

    import pyarrow as pa

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    table = pa.table(
        {
            "session_key": ["b", "a", "a", "a", "b", "c"],
            "item_id": ["x", "i1", "i2", "i3", "y", "z"],
            "event_time": [t0 + timedelta(minutes=m) for m in (5, 0, 1, 2, 6, 7)],
        }
    )
    sessions, labels, groups = holdout_requests(table)
    got = sorted(zip(map(tuple, sessions), labels, groups.tolist(), strict=True))
    assert [(s, y) for s, y, _ in got] == [(("i1",), "i2"), (("i1", "i2"), "i3"), (("x",), "y")]
    assert got[0][2] == got[1][2] != got[2][2]  # one session, one block of the bootstrap


def test_loop_retrains_the_recommender_from_sessions_and_gates_on_recall(
    surge: tuple[Path, Path], surge_start: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    world, bundle = surge
    ws = Workspace(tmp_path / "ws")
    reg = Registry(ws)
    reg.register(bundle, params={}, metrics={})  # version 1: the champion trained before the surge
    policy = LoopPolicy.model_validate(
        {"model": "recs", "task": "recs", "gate": {"n_resamples": 200, "min_positives": 20}}
    )
    steps = RecsSteps(world, holdout_days=1, train_days=None, gru=TINY, max_sessions=400, n_resamples=50)
    loop = Loop(ws, policy, registry=reg, trainer=steps)
    events = loop.retrain("new items", now=surge_start(world) + timedelta(days=11))
    kinds = [e.kind for e in events]
    assert kinds[:3] == ["trigger", "retrain", "gate"], [e.summary for e in events]
    gate = next(e for e in events if e.kind == "gate")
    ev = gate.evidence
    # the champion cannot recommend the items launched since it was trained; the challenger can
    assert ev["challenger"] > ev["champion"] and ev["verdict"] == "promote", gate.summary
    assert ev["bootstrap"]["diff_lower"] > 0
    assert "promotion" in kinds and reg.aliases("recs")["champion"] == 2
    assert loop.state().current is None and loop.state().episodes == []
