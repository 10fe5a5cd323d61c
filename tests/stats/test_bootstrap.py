"""The bootstrap engine: interval coverage over many seeds, block/stratified structure, paired draws."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import DataError
from shopml.stats import (
    Interval,
    bootstrap_interval,
    bootstrap_intervals,
    paired_difference,
    resample_weights,
)

SEEDS = 400


def _mean(y: np.ndarray):
    return lambda w: w @ y / w.sum(axis=1)


def _within_binomial(hits: int, trials: int, p: float, sds: float = 3.5) -> bool:
    return abs(hits / trials - p) <= sds * np.sqrt(p * (1 - p) / trials)


def test_row_interval_covers_the_truth_at_its_level() -> None:
    hits = 0
    for seed in range(SEEDS):
        y = np.random.default_rng([seed, 1]).normal(2.0, 1.0, 300)
        iv = bootstrap_interval(_mean(y), y.size, n_resamples=400, level=0.9, seed=seed)
        hits += iv.low <= 2.0 <= iv.high
    assert _within_binomial(hits, SEEDS, 0.9), hits / SEEDS


def test_block_interval_covers_clustered_data_where_rows_do_not() -> None:
    """Rows share a per-group effect: only whole-group draws see the real uncertainty of the mean."""
    block_hits = row_hits = 0
    groups = np.repeat(np.arange(40), 10)
    for seed in range(SEEDS // 2):
        rng = np.random.default_rng([seed, 2])
        y = rng.normal(0, 1, 40)[groups] + rng.normal(0, 0.5, groups.size)
        by_block = bootstrap_interval(_mean(y), y.size, n_resamples=300, seed=seed, groups=groups)
        by_row = bootstrap_interval(_mean(y), y.size, n_resamples=300, seed=seed)
        block_hits += by_block.low <= 0 <= by_block.high
        row_hits += by_row.low <= 0 <= by_row.high
    assert _within_binomial(block_hits, SEEDS // 2, 0.95, sds=4), block_hits
    assert row_hits / (SEEDS // 2) < 0.7  # rows taken as independent: far too narrow


def test_stratified_draws_keep_class_sizes() -> None:
    y = np.array([0] * 90 + [1] * 10)
    (w,) = resample_weights(50, 100, np.random.default_rng(0), strata=y)
    np.testing.assert_array_equal(w[:, y == 1].sum(axis=1), 10)
    np.testing.assert_array_equal(w.sum(axis=1), 100)
    assert w[:, y == 1].std() > 0  # rows within a class do vary


def test_block_draws_move_whole_groups_and_stratify_by_blocks() -> None:
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 30, 500)
    y = (rng.random(500) < 0.02).astype(int)
    pos_blocks = np.unique(groups[y == 1])
    (w,) = resample_weights(40, 500, np.random.default_rng(1), groups=groups, strata=y)
    for g in np.unique(groups):
        cols = w[:, groups == g]
        assert (cols == cols[:, :1]).all()  # every row of a group drawn the same number of times
    first = np.array([np.flatnonzero(groups == g)[0] for g in pos_blocks])
    np.testing.assert_array_equal(w[:, first].sum(axis=1), pos_blocks.size)  # positive blocks kept


def test_small_groups_stay_whole_with_two_positive_blocks() -> None:
    y = np.array([0, 0, 1, 1, 0, 0])
    groups = np.array([5, 5, 5, 9, 9, 7])
    (c,) = resample_weights(30, 6, np.random.default_rng(0), groups=groups, strata=y)
    assert (c[:, 0] == c[:, 1]).all() and (c[:, 0] == c[:, 2]).all() and (c[:, 3] == c[:, 4]).all()
    assert (c[:, [0, 3]].sum(axis=1) == 2).all()  # two positive-bearing groups drawn twice in all


def test_chunks_sample_weight_and_poisson() -> None:
    chunks = list(resample_weights(10, 4, np.random.default_rng(0), chunk=3))
    assert [c.shape[0] for c in chunks] == [3, 3, 3, 1]
    sw = np.array([1.0, 2.0, 0.0, 0.5])
    plain = next(resample_weights(5, 4, np.random.default_rng(0)))
    weighted = next(resample_weights(5, 4, np.random.default_rng(0), sample_weight=sw))
    np.testing.assert_array_equal(weighted, plain * sw)
    (p,) = resample_weights(2000, 50, np.random.default_rng(0), method="poisson", dtype=np.float32)
    assert p.dtype == np.float32 and abs(p.mean() - 1) < 0.01 and abs(p.var() - 1) < 0.03


def test_bad_input_names_the_field() -> None:
    with pytest.raises(DataError, match="groups must hold one value per row \\(4\\), got 3"):
        next(resample_weights(5, 4, np.random.default_rng(0), groups=np.arange(3)))
    with pytest.raises(DataError, match="sample_weight must hold 4 finite weights"):
        next(resample_weights(5, 4, np.random.default_rng(0), sample_weight=np.array([1, -1, 1, 1])))
    with pytest.raises(DataError, match="'multinomial' or 'poisson'"):
        next(resample_weights(5, 4, np.random.default_rng(0), method="jackknife"))  # type: ignore[arg-type]


def test_identical_models_differ_by_exactly_zero() -> None:
    y = np.random.default_rng(0).normal(size=200)
    d = paired_difference(_mean(y), _mean(y), y.size, n_resamples=200)
    assert d.diff == Interval(0.0, 0.0, 0.0, 0.95) and d.a == d.b and d.p_not_better == 1.0


def test_paired_difference_of_equally_good_models_is_centred_on_zero() -> None:
    """Two exchangeable models: the difference interval covers 0 at its level, and the one-sided bound
    claims 'better' about 1 - level of the time."""
    covered = better = 0
    for seed in range(SEEDS // 2):
        rng = np.random.default_rng([seed, 4])
        shared = rng.normal(size=300)
        a, b = shared + rng.normal(size=300), shared + rng.normal(size=300)
        d = paired_difference(_mean(a), _mean(b), 300, n_resamples=300, level=0.9, seed=seed)
        covered += d.diff.low <= 0 <= d.diff.high
        better += d.lower > 0
    assert _within_binomial(covered, SEEDS // 2, 0.9, sds=4), covered
    assert _within_binomial(better, SEEDS // 2, 0.1, sds=4), better


def test_pairing_narrows_the_difference() -> None:
    rng = np.random.default_rng(5)
    shared = rng.normal(size=400)
    a, b = shared + 0.1 * rng.normal(size=400), shared + 0.1 * rng.normal(size=400) + 0.05
    d = paired_difference(_mean(a), _mean(b), 400, n_resamples=500)
    ia = bootstrap_interval(_mean(a), 400, n_resamples=500)
    assert d.lower > 0 and (d.diff.high - d.diff.low) < (ia.high - ia.low) / 5


def test_several_metrics_share_draws_and_seed_reproduces() -> None:
    y = np.random.default_rng(6).normal(size=100)

    def both(w: np.ndarray) -> dict[str, np.ndarray]:
        return {"mean": w @ y / w.sum(axis=1), "neg": -(w @ y) / w.sum(axis=1)}

    one = bootstrap_intervals(both, 100, n_resamples=100, seed=3)
    again = bootstrap_intervals(both, 100, n_resamples=100, seed=3)
    assert one == again
    assert one["mean"].low == pytest.approx(-one["neg"].high) and one["mean"].level == 0.95
    assert one["mean"].to_dict()["value"] == pytest.approx(y.mean())
