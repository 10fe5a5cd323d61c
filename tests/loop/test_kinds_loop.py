"""The loop's gate and retrain window for every model kind: the kind's primary metric with its
direction, what the holdout must hold, what a pending label means; binary numbers unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shopml.errors import ConfigError
from shopml.kinds import get_kind
from shopml.loop.gate import decide
from shopml.loop.policy import DataPolicy, GatePolicy, WindowPolicy
from shopml.loop.window import split_at


def with_label_times(table: pa.Table, delay_hours: float) -> pa.Table:
    t = table.column("event_time")
    us = pc.cast(t, pa.int64()).to_numpy(zero_copy_only=False) + int(delay_hours * 3.6e9)
    return table.append_column("label_available_at", pa.array(us, pa.int64()).cast(t.type))


def end_time(table: pa.Table) -> datetime:
    last = pc.max(table.column("event_time")).as_py()
    return last if last.tzinfo else last.replace(tzinfo=UTC)


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
    rng = np.random.default_rng(2)
    n = 400
    times = np.datetime64("2025-03-01T00:00:00", "us") + (np.arange(n) * 3_600_000_000).astype(
        "timedelta64[us]"
    )
    table = pa.table(
        {
            "event_time": pa.array(times, pa.timestamp("us", tz="UTC")),
            "x": rng.normal(size=n),
            "progression": rng.gamma(3.0, 50.0, n),
        }
    )
    table = with_label_times(table, 12.0)
    now = end_time(table)
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
