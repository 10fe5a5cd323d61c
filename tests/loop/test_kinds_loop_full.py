"""Multiclass and regression models through the loop: train → registry → scoring → one gated retrain
(promoted, and rejected on the floor), with the gate comparing each kind's primary metric."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopml.config import Workspace
from shopml.errors import ConfigError
from shopml.kinds import get_kind
from shopml.loop import Loop
from shopml.loop.gate import decide
from shopml.loop.policy import DataPolicy, GatePolicy, LoopPolicy, WindowPolicy
from shopml.loop.scoring import score_table
from shopml.loop.window import split_at
from shopml.registry import Registry

from ..kinds.conftest import diabetes_table, wine_table

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


def _with_label_times(table: pa.Table, delay_hours: float) -> pa.Table:
    t = table.column("event_time")
    us = pc.cast(t, pa.int64()).to_numpy(zero_copy_only=False) + int(delay_hours * 3.6e9)
    return table.append_column("label_available_at", pa.array(us, pa.int64()).cast(t.type))


def _end(table: pa.Table) -> datetime:
    last = pc.max(table.column("event_time")).as_py()
    return last if last.tzinfo else last.replace(tzinfo=UTC)


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
    table = _with_label_times(make(), delay)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    start = pc.min(table.column("event_time")).as_py()
    now = _end(table) + timedelta(hours=1)
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


def _regression(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.gamma(3.0, 10.0, n)
    return y, y + rng.normal(0, 2.0, n), y + rng.normal(0, 8.0, n)


def test_regression_gate_is_direction_aware() -> None:
    y, good, bad = _regression()
    policy = GatePolicy(n_resamples=300, mode="superior", min_positives=30)
    better = decide(y, good, bad, policy, kind="regression")
    assert better.verdict == "promote" and better.metric == "mae"
    assert better.challenger_metric is not None and better.champion_metric is not None
    assert better.challenger_metric < better.champion_metric  # lower MAE wins...
    assert better.bootstrap is not None and better.bootstrap["diff_lower"] > 0  # ...as a positive improvement
    assert "MAE(champion) - MAE(challenger)" in better.rule
    worse = decide(y, bad, good, policy, kind="regression")
    assert worse.verdict == "reject" and any("comparison FAILED" in r for r in worse.reasons)
    # the floor of an error metric is a ceiling; 0 is no bound
    capped = decide(y, good, bad, policy.model_copy(update={"min_metric": 0.5}), kind="regression")
    assert capped.verdict == "reject" and any("floor FAILED" in r for r in capped.reasons)
    first = decide(y, good, None, policy, kind="regression")
    assert first.verdict == "promote" and "no bound" in first.rule


def test_multiclass_gate_and_metric_mismatch() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 900)
    sharp = np.full((900, 3), 0.1)
    sharp[np.arange(900), y] = 0.8
    blurred = rng.dirichlet(np.ones(3), 900)
    policy = GatePolicy(n_resamples=200, mode="superior", min_positives=30)
    d = decide(y, sharp, blurred, policy, kind="multiclass")
    assert d.verdict == "promote" and d.metric == "macro_f1" and d.bootstrap is not None
    assert d.bootstrap["positives"] == 900  # no rare class: every labelled row counts
    with pytest.raises(ConfigError, match=r"gate\.metric 'pr_auc' is not the primary metric"):
        decide(y, sharp, blurred, policy.model_copy(update={"metric": "pr_auc"}), kind="multiclass")
    few = decide(y[:20], sharp[:20], blurred[:20], policy, kind="multiclass")
    assert few.verdict == "no_decision" and "20 labelled rows" in few.reasons[0]


def test_pending_labels_negative_needs_a_kind_whose_missing_label_means_no() -> None:
    table = _with_label_times(diabetes_table(), 12.0)
    now = _end(table)
    data = DataPolicy(path=Path("x"), target="progression")
    window = WindowPolicy(pending_labels="negative", min_rows=10, min_positives=10)
    with pytest.raises(ConfigError, match="a regression model's pending rows stay unknown"):
        split_at(table, data, window, GatePolicy(), now, kind=get_kind("regression"))
    split = split_at(
        table,
        data,
        window.model_copy(update={"pending_labels": "drop"}),
        GatePolicy(),
        now,
        kind=get_kind("regression"),
    )
    held = split.holdout.column("progression")
    assert split.holdout.num_rows > 0 and held.null_count == 0


def test_binary_gate_keeps_its_numbers() -> None:
    """Routed through the binary kind, the gate's bootstrap is the paired PR-AUC bootstrap it always was
    (hour blocks, class strata, label-delay weights): the same figures for the same seed."""
    from shopml.loop.bootstrap import paired_bootstrap

    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.04).astype(np.int8)
    champion, challenger = y + rng.normal(size=3000), 1.3 * y + rng.normal(size=3000)
    groups, weights = rng.integers(0, 200, 3000), np.where(y == 1, rng.uniform(1, 3, 3000), 1.0)
    policy = GatePolicy(n_resamples=400)
    old = paired_bootstrap(
        y, champion, challenger, n_resamples=400, level=0.95, seed=0, groups=groups, sample_weight=weights
    ).to_dict()
    new = decide(y, challenger, champion, policy, groups=groups, weights=weights).bootstrap
    assert new == old
