"""Batched metrics, realised performance with bootstrap intervals, CBPE estimates and their coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from shopml.config.settings import PerformanceSettings
from shopml.errors import DataError, InsufficientDataError
from shopml.monitor.performance.estimate import estimate_performance
from shopml.monitor.performance.metrics import SortedScores
from shopml.monitor.performance.windows import (
    WindowData,
    evaluate_series,
    evaluate_window,
    realised_performance,
)
from shopml.stats import Costs

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _calibrated(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    s = rng.beta(0.6, 6.0, n)
    return s, (rng.random(n) < s).astype(np.float64)


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_sklearn_and_weights_mean_repeats(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s, y = _calibrated(500, rng)
    s = np.round(s, 2)  # ties
    d = s >= 0.2
    m = SortedScores(s, d)
    got = m.metrics(y[m.order][None, :], None, Costs(false_positive=1.0, false_negative=5.0))
    assert got["pr_auc"][0] == pytest.approx(average_precision_score(y, s))
    assert got["precision"][0] == pytest.approx(precision_score(y, d))
    assert got["recall"][0] == pytest.approx(recall_score(y, d))
    assert got["f1"][0] == pytest.approx(f1_score(y, d))
    fp, fn = np.sum(d & (y == 0)), np.sum(~d & (y == 1))
    assert got["expected_cost"][0] == pytest.approx((fp + 5 * fn) / 500)
    w = rng.integers(0, 3, 500).astype(np.float64)
    rep = np.repeat(np.arange(500), w.astype(int))
    weighted = m.metrics(y[m.order][None, :], w[m.order][None, :], Costs())
    assert weighted["pr_auc"][0] == pytest.approx(average_precision_score(y[rep], s[rep]))


def test_realised_intervals_cover_population_value() -> None:
    big_rng = np.random.default_rng(123)
    s_pop, y_pop = _calibrated(400_000, big_rng)
    truth = average_precision_score(y_pop, s_pop)
    hits = 0
    for seed in range(40):
        idx = np.random.default_rng(seed).choice(s_pop.size, 3000, replace=False)
        r = realised_performance(
            s_pop[idx],
            s_pop[idx] >= 0.3,
            y_pop[idx],
            n_resamples=200,
            level=0.9,
            rng=np.random.default_rng(seed),
        )["pr_auc"]
        hits += r.low <= truth <= r.high
    assert 0.75 <= hits / 40 <= 1.0


def _bursty(rng: np.random.Generator, bursts: int = 12, size: int = 5) -> tuple[np.ndarray, ...]:
    """A day of 1,000 legit rows and ``bursts`` fraud bursts of ``size`` rows each, every burst inside one
    hour and caught (scored high) or missed together with probability 0.6: rows are not independent."""
    hour_legit = rng.integers(0, 24, 1000)
    caught = rng.random(bursts) < 0.6
    s_fraud = np.repeat(np.where(caught, 0.9, 0.05), size) + rng.normal(0, 0.01, bursts * size)
    hour_fraud = np.repeat(rng.integers(0, 24, bursts), size)
    s = np.r_[rng.beta(0.6, 12.0, 1000), s_fraud]
    y = np.r_[np.zeros(1000), np.ones(bursts * size)]
    return s, s >= 0.5, y, np.r_[hour_legit, hour_fraud]


def test_block_bootstrap_keeps_its_coverage_when_fraud_comes_in_bursts() -> None:
    """Recall at the threshold is 0.6 by construction; 200 seeded days. Resampling rows treats a burst of
    five as five independent catches and under-covers; resampling hour blocks keeps the stated 90%."""
    level, runs, truth = 0.9, 200, 0.6
    hits = {"rows": 0, "blocks": 0}
    for seed in range(runs):
        s, d, y, hour = _bursty(np.random.default_rng(seed))
        for kind, blocks in (("rows", None), ("blocks", hour)):
            r = realised_performance(
                s, d, y, n_resamples=300, level=level, rng=np.random.default_rng(seed), blocks=blocks
            )["recall"]
            hits[kind] += r.low <= truth <= r.high
    assert hits["rows"] / runs < 0.7, hits
    assert abs(hits["blocks"] / runs - level) < 0.07, hits


def test_blocks_of_one_row_behave_as_the_row_bootstrap() -> None:
    s, d, y, _ = _bursty(np.random.default_rng(1))
    a = realised_performance(s, d, y, n_resamples=2000, rng=np.random.default_rng(2))["recall"]
    one = np.arange(y.size)
    b = realised_performance(s, d, y, n_resamples=2000, rng=np.random.default_rng(3), blocks=one)["recall"]
    assert a.value == b.value
    assert abs(a.low - b.low) < 0.03 and abs(a.high - b.high) < 0.03


def test_cbpe_interval_covers_realised_value_at_stated_rate() -> None:
    level, runs = 0.9, 200
    hits = {m: 0 for m in ("pr_auc", "precision", "recall", "expected_cost")}
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        s, y = _calibrated(800, rng)
        d = s >= 0.25
        est = estimate_performance(s, d, n_resamples=200, level=level, rng=rng)
        real = realised_performance(s, d, y, n_resamples=20, rng=rng)
        for m in hits:
            hits[m] += est[m].low <= real[m].value <= est[m].high
    for m, h in hits.items():  # binomial sd at 200 runs is ~2.1 points
        assert abs(h / runs - level) < 0.065, (m, h / runs)


def _bursty_scores(rng: np.random.Generator, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """60 ordinary rows an hour, and in 5% of the hours a burst of 15 high scores (card testing)."""
    s, hour = [], []
    for h in range(hours):
        burst = rng.random() < 0.05
        part = np.r_[rng.beta(0.5, 40, 60), np.clip(rng.normal(0.6, 0.1, 15 if burst else 0), 0.01, 0.99)]
        s.append(part)
        hour.append(np.full(part.size, h))
    return np.concatenate(s), np.concatenate(hour)


def test_block_cbpe_does_not_cry_wolf_on_bursty_stationary_traffic() -> None:
    """Alert rule "interval high < expected level - 0.05" on 100 seeded 3-day windows of one stationary,
    bursty process: label-only intervals alarm far more often than 5%; with hour blocks they do not."""
    big, _ = _bursty_scores(np.random.default_rng(999), 4000)
    level = estimate_performance(big, big >= 0.3, n_resamples=50, rng=np.random.default_rng(0))[
        "pr_auc"
    ].value
    alarms = {"labels": 0, "blocks": 0}
    for seed in range(100):
        s, hour = _bursty_scores(np.random.default_rng(seed), 72)
        for kind, blocks in (("labels", None), ("blocks", hour)):
            rng = np.random.default_rng(seed)
            e = estimate_performance(s, s >= 0.3, n_resamples=100, rng=rng, blocks=blocks)["pr_auc"]
            alarms[kind] += e.high < level - 0.05
    assert alarms["labels"] >= 10, alarms
    assert alarms["blocks"] <= 5, alarms


def test_cbpe_sees_a_drop_in_scores() -> None:
    rng = np.random.default_rng(7)
    s, _ = _calibrated(3000, rng)
    est = estimate_performance(s, s >= 0.25, rng=rng)
    shifted = estimate_performance(s * 0.5, s * 0.5 >= 0.25, rng=rng)
    assert shifted["pr_auc"].high < est["pr_auc"].low and shifted["recall"].high < est["recall"].low


def test_evaluate_window_maturity_and_insufficient_data() -> None:
    settings = PerformanceSettings(min_labelled=100)
    rng = np.random.default_rng(0)
    s, y = _calibrated(2000, rng)
    partial = y.copy()
    partial[:400] = np.nan
    w = evaluate_window(T0, T0 + timedelta(days=1), s, s >= 0.25, partial, settings, rng)
    assert w.maturity == pytest.approx(0.8) and not w.matured and w.realised is None
    assert w.estimated is not None and "not matured" in w.notes[0]
    full = evaluate_window(T0, T0 + timedelta(days=1), s, s >= 0.25, y, settings, rng)
    assert full.matured and full.realised is not None
    assert full.realised["pr_auc"].low <= full.realised["pr_auc"].value <= full.realised["pr_auc"].high
    empty = evaluate_window(T0, T0, np.empty(0), np.empty(0), np.empty(0), settings, rng)
    assert empty.rows == 0 and empty.estimated is None and "insufficient data" in empty.notes[0]
    single = evaluate_window(T0, T0, s, s >= 0.25, np.zeros_like(s), settings, rng)
    assert single.realised is None and "0 positive label(s); need 30" in single.notes[-1]
    assert full.to_dict()["realised"]["pr_auc"]["level"] == 0.9


def test_estimate_rejects_bad_scores() -> None:
    with pytest.raises(InsufficientDataError, match="empty window"):
        estimate_performance(np.empty(0), np.empty(0))
    with pytest.raises(DataError, match="probabilities in \\[0, 1\\]"):
        estimate_performance(np.array([0.2, 1.5]), np.array([0, 1]))


def test_rare_positives_pool_preceding_windows() -> None:
    settings = PerformanceSettings(min_labelled=50, min_positives=30, max_pool=7)
    rng = np.random.default_rng(1)
    days = []
    for k in range(6):
        s = rng.beta(0.3, 20.0, 700)  # ~1.5% positives: ~10 per window
        y = (rng.random(700) < s).astype(float)
        if k == 5:
            y[:] = np.nan  # the newest window has no labels yet
        days.append(WindowData(T0 + timedelta(days=k), T0 + timedelta(days=k + 1), s, s >= 0.1, y))
    out = evaluate_series(days, settings, rng)
    first = out[0]
    assert first.realised is None and "need 30 within 7 matured windows" in first.notes[-1]
    pooled = [w for w in out if w.realised is not None]
    assert pooled, [w.notes for w in out]
    for w in pooled:
        assert w.realised_from is not None and w.realised_from < w.start
        span = [d for d in days if w.realised_from <= d.start <= w.start]
        assert sum(d.positives for d in span) >= 30
    assert out[-1].realised is None and out[-1].estimated is not None and out[-1].estimated_from is not None
