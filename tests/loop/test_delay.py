"""Delayed-feedback correction: the arrival curve, unbiased positive mass, and its use by window and gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shopml.errors import DataError
from shopml.loop.bootstrap import paired_bootstrap
from shopml.loop.delay import arrival_curve, arrival_weights
from shopml.loop.gate import decide
from shopml.loop.policy import DataPolicy, GatePolicy, LabelDelayPolicy, WindowPolicy
from shopml.loop.window import _labelled, split_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=90)
DATA = DataPolicy()
TS = pa.timestamp("us", "UTC")


def _world(
    seed: int, n: int = 60_000, rate: float = 0.05, median: float = 9.0
) -> tuple[pa.Table, np.ndarray]:
    """Events uniform over 90 days; positives' labels arrive after log-normal delays, the rest after 14 d."""
    rng = np.random.default_rng(seed)
    t_us = np.sort(rng.uniform(0, 90 * 86_400e6, n)).astype(np.int64) + int(T0.timestamp() * 1e6)
    y = (rng.random(n) < rate).astype(np.int8)
    delay_d = np.where(y == 1, rng.lognormal(np.log(median), 0.6, n), 14.0)
    label_us = t_us + (delay_d * 86_400e6).astype(np.int64)
    table = pa.table(
        {
            "event_time": pa.array(t_us, pa.int64()).cast(TS),
            "is_fraud": pa.array(y),
            "label_available_at": pa.array(label_us, pa.int64()).cast(TS),
        }
    )
    return table, y


def test_arrival_curve_matches_the_delay_distribution() -> None:
    table, _ = _world(0)
    curve = arrival_curve(table, DATA, NOW, horizon_days=45)
    # log-normal(median 9, sigma 0.6): F(5) = 0.164, F(9) = 0.5, F(15) = 0.803 (truncation at 45 d: < 0.1%)
    assert np.allclose(curve.cdf(np.array([5.0, 9.0, 15.0])), [0.164, 0.5, 0.803], atol=0.04)
    assert curve.cdf(np.array([50.0]))[0] == 1.0
    assert 8 < curve.describe()["delay_median_days"] < 10


@pytest.mark.parametrize("seed", range(5))
def test_weighted_positive_mass_is_unbiased_per_age(seed: int) -> None:
    """Known positives x 1/F(age) recover the true positive count in each age band (within 12%), where
    taking pending rows as negative loses most of the young ones."""
    table, y = _world(seed, n=300_000)
    known = _labelled(table, DATA, NOW, "negative")
    policy = LabelDelayPolicy(correction="arrival_weights", max_weight=20)
    w, info = arrival_weights(known, DATA, NOW, policy, table)
    age = (NOW.timestamp() * 1e6 - known.column("event_time").cast(pa.int64()).to_numpy()) / 86_400e6
    yk = known.column("is_fraud").to_numpy()
    for lo, hi in ((4, 8), (8, 12), (12, 20), (20, 40)):
        band = (age >= lo) & (age < hi)
        truth = y[band].sum()
        assert abs((w * yk)[band].sum() / truth - 1) < 0.12, (lo, hi)
    assert (
        yk[(age >= 4) & (age < 8)].sum() < 0.4 * y[(age >= 4) & (age < 8)].sum()
    )  # uncorrected: most missing
    assert info["positives"] > 1000 and "skipped" not in info


def test_too_few_old_positives_means_no_correction_and_says_why() -> None:
    table, _ = _world(1, n=2_000, rate=0.01)
    policy = LabelDelayPolicy(correction="arrival_weights", min_positives=500)
    w, info = arrival_weights(table, DATA, NOW, policy, table)
    assert np.all(w == 1.0) and "arrival curve needs 500" in str(info["skipped"])
    off, info_off = arrival_weights(table, DATA, NOW, LabelDelayPolicy(), table)
    assert np.all(off == 1.0) and info_off == {"correction": "none"}


def test_split_weighs_recent_positives_in_train_and_holdout() -> None:
    table, _ = _world(2)
    window = WindowPolicy(kind="sliding", days=40, pending_labels="negative", min_label_age_days=3)
    gate = GatePolicy(holdout_days=5, label_maturity_days=7)
    delay = LabelDelayPolicy(correction="arrival_weights", max_weight=10)
    s = split_at(table, DATA, window, gate, NOW, delay)
    y = s.train.column("is_fraud").to_numpy()
    assert np.all(s.weights[y == 0] == 1.0) and s.weights[y == 1].max() == pytest.approx(10.0)
    assert (
        s.holdout_weights is not None
        and s.holdout_weights[s.holdout.column("is_fraud").to_numpy() == 1].min() > 1
    )
    assert s.describe()["label_delay"]["correction"] == "arrival_weights"  # type: ignore[index]
    plain = split_at(table, DATA, window, gate, NOW)
    assert np.all(plain.weights == 1.0) and np.all(plain.holdout_weights == 1.0)  # type: ignore[operator]


def test_bootstrap_and_gate_take_sample_weights() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.05).astype(np.int8)
    a, b = rng.random(3000) + y * 0.5, rng.random(3000) + y * 0.8
    plain = paired_bootstrap(y, a, b, n_resamples=200)
    twos = paired_bootstrap(y, a, b, n_resamples=200, sample_weight=np.full(3000, 2.0))
    assert twos.diff == pytest.approx(plain.diff) and twos.diff_ci == pytest.approx(plain.diff_ci)
    # upweighting the positives that model b ranks low lowers b's weighted PR-AUC
    hard = (y == 1) & (b < np.quantile(b[y == 1], 0.3))
    weighted = paired_bootstrap(y, a, b, n_resamples=200, sample_weight=np.where(hard, 5.0, 1.0))
    assert weighted.challenger < plain.challenger
    with pytest.raises(DataError, match="sample_weight must hold 3000 finite weights"):
        paired_bootstrap(y, a, b, sample_weight=np.full(3000, -1.0))
    d = decide(y, b, a, GatePolicy(mode="superior", n_resamples=200), weights=np.full(3000, 3.0))
    assert d.verdict == "promote" and d.bootstrap is not None


def test_policy_yaml_with_correction_needs_pending_as_negative(tmp_path: Path) -> None:
    from shopml.errors import ConfigError
    from shopml.loop.policy import load_policy

    bad = tmp_path / "loop.yaml"
    bad.write_text("label_delay: {correction: arrival_weights}\nwindow: {pending_labels: drop}\n")
    with pytest.raises(ConfigError, match=r"loop.yaml.*needs window.pending_labels: negative \(got 'drop'"):
        load_policy(bad)
    bad.write_text("label_delay: {correction: arrival_weights, max_weight: 0.5}\n")
    with pytest.raises(ConfigError, match=r"key 'label_delay.max_weight' = 0.5"):
        load_policy(bad)
    good = tmp_path / "ok.yaml"
    good.write_text("label_delay: {correction: arrival_weights}\nwindow: {pending_labels: negative}\n")
    assert load_policy(good).label_delay.correction == "arrival_weights"
