"""The paired bootstrap: exact PR-AUC, and the gate's error rates over many seeds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from shopml.errors import DataError, InsufficientDataError
from shopml.loop.bootstrap import paired_bootstrap, weighted_average_precision
from shopml.loop.gate import decide
from shopml.loop.policy import GatePolicy


def _world(seed: int, n: int = 1500, rate: float = 0.05, signal_a: float = 1.2, signal_b: float = 1.2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(np.int8)
    shared = rng.normal(size=n)  # both models see the same hard cases (correlated, as real models are)
    a = signal_a * y + 0.7 * shared + 0.7 * rng.normal(size=n)
    b = signal_b * y + 0.7 * shared + 0.7 * rng.normal(size=n)
    return y, a, b


@pytest.mark.parametrize("seed", range(5))
def test_weighted_ap_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(400) < 0.1).astype(int)
    s = np.round(rng.random(400) + 0.4 * y, 1)  # many ties
    w = rng.integers(0, 4, size=(4, 400)).astype(float)
    ours = weighted_average_precision(y, s, w)
    ref = [average_precision_score(y, s, sample_weight=w[i]) for i in range(4)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_identical_models_have_zero_difference() -> None:
    y, a, _ = _world(0)
    r = paired_bootstrap(y, a, a, n_resamples=200)
    assert (
        r.diff == 0 and r.diff_ci == (0.0, 0.0) and r.champion == pytest.approx(average_precision_score(y, a))
    )


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="differ in length"):
        paired_bootstrap(np.array([0, 1]), np.array([0.1, 0.2]), np.array([0.1]))
    with pytest.raises(InsufficientDataError, match="0 positives"):
        paired_bootstrap(np.zeros(10), np.random.rand(10), np.random.rand(10))
    with pytest.raises(DataError, match="0/1"):
        paired_bootstrap(np.array([0, 2]), np.array([0.1, 0.2]), np.array([0.1, 0.2]))


def _promote_rate(policy: GatePolicy, seeds: range, **world: float) -> float:
    promoted = []
    for seed in seeds:
        y, champ, chal = _world(seed, **world)  # type: ignore[arg-type]
        promoted.append(decide(y, chal, champ, policy.model_copy(update={"seed": seed})).promote)
    return float(np.mean(promoted))


def test_no_better_challenger_promoted_at_most_alpha() -> None:
    """Superiority at 95%: a challenger of the same quality passes about 5% of the time.

    300 seeds: the binomial standard error at 5% is 1.3 points; the tolerance is 3 of them."""
    policy = GatePolicy(mode="superior", level=0.95, n_resamples=200, min_positives=5)
    rate = _promote_rate(policy, range(300), n=800, rate=0.06)
    assert rate <= 0.05 + 0.04, rate


def test_non_inferiority_rate_at_the_margin() -> None:
    """Non-inferiority with margin 0.05: a challenger truly worse by 0.05 PR-AUC passes at most ≈ α.

    Signal 1.034 vs 1.2 gives a population PR-AUC difference of -0.050 (measured on 400k rows)."""
    policy = GatePolicy(mode="non_inferior", margin=0.05, level=0.95, n_resamples=200, min_positives=5)
    rate = _promote_rate(policy, range(1000, 1200), n=800, rate=0.06, signal_b=1.034)
    assert rate <= 0.05 + 0.05, rate


def test_equal_challenger_passes_non_inferiority_often() -> None:
    """An equally good challenger passes non-inferiority (~68% at 240 positives and margin 0.05)."""
    policy = GatePolicy(mode="non_inferior", margin=0.05, level=0.95, n_resamples=200, min_positives=5)
    assert _promote_rate(policy, range(2000, 2040), n=4000, rate=0.06) >= 0.45


def test_better_challenger_promoted_with_high_power() -> None:
    policy = GatePolicy(mode="superior", level=0.95, n_resamples=200, min_positives=5)
    assert _promote_rate(policy, range(500, 560), n=800, rate=0.06, signal_a=1.0, signal_b=2.0) >= 0.9


def _bursty_world(seed: int) -> tuple[np.ndarray, ...]:
    """1,500 legit rows and 25 fraud bursts of 4 rows, each burst in one hour. Each model catches a burst
    (all four rows) with probability 0.6, independently: equally good, but their differences come in
    bursts, not rows."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(1500), np.ones(100)].astype(np.int8)
    hours = np.r_[rng.integers(0, 24 * 7, 1500), np.repeat(rng.integers(0, 24 * 7, 25), 4)]
    legit = rng.beta(1.0, 8.0, (2, 1500))
    caught = np.repeat(rng.random((2, 25)) < 0.6, 4, axis=1)
    fraud = np.where(caught, 0.8, 0.1) + rng.normal(0, 0.02, (2, 100))
    a, b = np.c_[legit, fraud]
    return y, a, b, hours


def test_hour_blocks_keep_the_gate_honest_when_frauds_come_in_bursts() -> None:
    """Superiority at 95% over 200 seeded bursty worlds: resampling rows promotes an equally good
    challenger far more often than 5%; resampling hour blocks keeps it near 5%."""
    policy = GatePolicy(mode="superior", level=0.95, n_resamples=200, min_positives=5)
    rows, blocks = [], []
    for seed in range(200):
        y, a, b, hours = _bursty_world(seed)
        p = policy.model_copy(update={"seed": seed})
        rows.append(decide(y, b, a, p).promote)
        blocks.append(decide(y, b, a, p, groups=hours).promote)
    assert np.mean(rows) >= 0.12, np.mean(rows)
    assert np.mean(blocks) <= 0.05 + 0.04, np.mean(blocks)


def test_segments_rank_within_each_period_only() -> None:
    """A model switch that rescales scores (same ranking within each period) is no loss per segment,
    while pooling both periods' scores in one ranking calls it one."""
    from shopml.loop.bootstrap import segmented_average_precision

    rng = np.random.default_rng(11)
    n = 4000
    y = (rng.random(n) < 0.05).astype(np.int8)
    a = rng.random(n) + y * 0.7
    seg = (np.arange(n) >= n // 2).astype(int)
    b = np.where(seg == 1, a * 0.3, a)  # the second model's scores: same order, another scale
    pooled = paired_bootstrap(y, a, b, n_resamples=200)
    split = paired_bootstrap(y, a, b, n_resamples=200, segments=seg)
    assert pooled.diff < -0.05 and split.diff == pytest.approx(0.0, abs=1e-12)
    one = segmented_average_precision(y, a, np.ones((1, n)), np.zeros(n))
    assert one[0] == pytest.approx(weighted_average_precision(y, a, np.ones((1, n)))[0])
    with pytest.raises(DataError, match="segments must hold one id per row"):
        paired_bootstrap(y, a, b, segments=seg[:10])
