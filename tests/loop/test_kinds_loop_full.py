"""Multiclass and regression models through the loop: train → registry → scoring → one gated retrain
(promoted, and rejected on the floor), with the gate comparing each kind's primary metric."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopml.config import Workspace
from shopml.kinds import get_kind
from shopml.loop import Loop
from shopml.loop.policy import LoopPolicy
from shopml.loop.scoring import score_table
from shopml.registry import Registry

from ..kinds.conftest import diabetes_table, wine_table
from .test_kinds_loop import end_time, with_label_times

#: Per kind: the table maker, target, id column and the label delay (hours after the event).
WORLDS: dict[str, tuple[Any, str, str, float]] = {
    "multiclass": (wine_table, "cultivar", "order_id", 30.0),
    "regression": (diabetes_table, "progression", "visit_id", 12.0),
}
TINY: dict[str, Any] = {
    "model": {"n_estimators": 30, "max_depth": 3, "early_stopping_rounds": 10, "n_jobs": 1},
    "search": {"n_trials": 1},
    "bootstrap": 20,
    "learning_curve_sizes": [1.0],
    "parity_rows": 100,
    "split": {"gap_days": 0.5},
}


def _policy(kind: str, path: Path, **gate: Any) -> LoopPolicy:
    _, target, id_col, _ = WORLDS[kind]
    return LoopPolicy.model_validate(
        {
            "model": kind,
            "task": f"{kind}-shop",
            "train_config": {"kind": kind, "id_column": id_col, **TINY},
            "data": {"path": str(path), "target": target},
            "window": {"kind": "expanding", "pending_labels": "drop", "min_rows": 100, "min_positives": 50},
            "gate": {
                "holdout_days": 8,
                "label_maturity_days": 2,
                "min_positives": 30,
                "n_resamples": 200,
                "mode": "non_inferior",
                "margin": 100.0,
                **gate,
            },
        }
    )


@pytest.fixture(params=sorted(WORLDS))
def kind_world(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Workspace, Path, datetime]:
    """A workspace whose registry holds v1 = champion, trained on the first half of the kind's table."""
    from shopml.train import train

    kind = str(request.param)
    make, _, _, delay = WORLDS[kind]
    table = with_label_times(make(), delay)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    start = pc.min(table.column("event_time")).as_py()
    now = end_time(table) + timedelta(hours=1)
    early = table.filter(pc.less(table.column("event_time"), pa.scalar(start + (now - start) / 2)))
    ws = Workspace(tmp_path / "ws").ensure()
    from shopml.loop.challenger import _config

    cfg = _config(_policy(kind, path), tmp_path)
    train(cfg, table=early.drop_columns(["label_available_at"]), workspace=ws)
    return kind, ws, path, now


def test_a_kind_retrains_through_the_gate_on_its_primary_metric(
    kind_world: tuple[str, Workspace, Path, datetime],
) -> None:
    kind, ws, path, now = kind_world
    metric = get_kind(kind).primary_metric
    registry = Registry(ws)
    assert registry.aliases(kind)["champion"] == 1
    events = Loop(ws, _policy(kind, path)).retrain("kinds test", now=now)
    assert [e.kind for e in events] == ["trigger", "retrain", "gate", "promotion"], [
        e.summary for e in events
    ]
    retrain, gate = events[1], events[2]
    assert isinstance(retrain.evidence[f"test_{metric}"], float)
    report = json.loads(Path(gate.links[0]).read_text())
    assert report["metric"] == metric and report["verdict"] == "promote"
    boot = report["bootstrap"]
    assert boot["n"] >= 30 and boot["champion"] > 0 and boot["challenger"] > 0
    sign = get_kind(kind).direction(metric)  # the difference is the improvement, whatever the direction
    assert boot["diff"] == pytest.approx(sign * (boot["challenger"] - boot["champion"]))
    assert registry.aliases(kind)["champion"] == 2
    # the promoted challenger scores through the served output of its kind
    bundle = registry.load_bundle(kind, "champion")
    table = pq.read_table(path).slice(0, 20)
    out = score_table(bundle, table)
    assert out.shape == ((20, 3) if kind == "multiclass" else (20,))


def test_a_kind_floor_rejects_and_keeps_the_champion(
    kind_world: tuple[str, Workspace, Path, datetime],
) -> None:
    kind, ws, path, now = kind_world
    # unreachable: macro-F1 >= 1.0 with a tie-free holdout, MAE <= 0.001 on a disease score
    floor = 1.0 if get_kind(kind).direction(get_kind(kind).primary_metric) > 0 else 0.001
    events = Loop(ws, _policy(kind, path, min_metric=floor)).retrain("kinds test", now=now)
    gate = events[-1]
    assert gate.kind == "gate" and gate.evidence["verdict"] == "reject", gate.summary
    assert "floor FAILED" in gate.summary
    assert Registry(ws).aliases(kind)["champion"] == 1
