"""The embedding drift test (MMD, permutation p-value): its false-alarm rate on many clean splits stays
within the binomial band of its level, it catches known shifts, it sits in the drift registry, and the
reference sample round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from shopml.errors import ConfigError, DataError, SchemaError
from shopml.monitor.drift.embedding import (
    SAMPLE_FILE,
    compare_sample,
    embedding_column,
    load_sample,
    logged_vectors,
    mmd_test,
    save_sample,
)
from shopml.monitor.drift.registry import TESTS, get_test

ALPHA = 0.05
SEEDS = 200


def _features(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """Penultimate-layer-like vectors: ReLU of a random projection of correlated inputs (sparse, skewed,
    many exact zeros), 16 dimensions; ``shift`` moves the inputs' mean along one direction."""
    w = np.random.default_rng(99).normal(size=(8, 16))
    z = rng.normal(size=(n, 8)) @ np.tril(np.ones((8, 8))) / 3 + shift
    return np.maximum(z @ w, 0.0).astype(np.float32)


def _band(n: int, level: float, p: float = 1e-3) -> tuple[int, int]:
    """Central ``1 - p`` interval of Binomial(n, level): the counts a calibrated test lands in."""
    return int(stats.binom.ppf(p / 2, n, level)), int(stats.binom.isf(p / 2, n, level))


@pytest.mark.parametrize("rows", [(40, 40), (120, 60)])
def test_false_alarm_rate_is_calibrated_over_many_clean_splits(rows: tuple[int, int]) -> None:
    """200 clean reference/current pairs (one pool, split at random) at alpha 0.05: the number of alarms
    is inside the 99.9% binomial band of 200 × 0.05 (about 2–20), and the p-values are near uniform."""
    from threadpoolctl import threadpool_limits

    m, n = rows
    p_values = []
    with threadpool_limits(1):  # small matrices: one BLAS thread is fastest on a shared machine
        for seed in range(SEEDS):
            rng = np.random.default_rng([seed, 1])
            pool = _features(rng, m + n)
            p_values.append(mmd_test(pool[:m], pool[m:], n_permutations=99, seed=seed).p_value)
    p = np.array(p_values)
    low, high = _band(SEEDS, ALPHA)
    alarms = int(np.sum(p < ALPHA))
    assert low <= alarms <= high, f"{alarms} false alarms in {SEEDS} clean splits (band {low}–{high})"
    assert stats.kstest(p, "uniform").pvalue > 1e-3  # not only the tail: the whole null distribution


def test_power_on_known_shifts() -> None:
    """A mean shift of the inputs is caught nearly always at 60 rows per side; a tiny one rarely."""
    caught = {0.5: 0, 0.05: 0}
    for seed in range(30):
        rng = np.random.default_rng([seed, 2])
        for shift in caught:
            r = mmd_test(_features(rng, 60), _features(rng, 60, shift), n_permutations=99, seed=seed)
            caught[shift] += r.p_value < ALPHA
    assert caught[0.5] >= 27 and caught[0.05] <= 9


def test_the_registry_holds_the_embedding_test() -> None:
    rng = np.random.default_rng(3)
    test = get_test("mmd", "embedding")
    assert TESTS["mmd"].kinds == {"embedding"} and test.uses_p_value
    ref, same, moved = _features(rng, 150), _features(rng, 150), _features(rng, 150, 0.6)
    a, b, c = embedding_column(ref), embedding_column(same), embedding_column(moved)
    quiet, loud = test.score(a, b), test.score(a, c)
    assert quiet.p_value > ALPHA > loud.p_value and loud.effect_size > quiet.effect_size >= 0
    assert loud.method == "permutation" and loud.effect_size == pytest.approx(np.sqrt(loud.statistic))
    before = ref.copy()
    assert test.score(a, c) == loud and np.array_equal(ref, before)  # deterministic, input untouched
    with pytest.raises(ConfigError, match="drift test 'mmd' does not accept numeric columns"):
        get_test("mmd", "numeric")


def test_bad_input_names_what_was_expected() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(SchemaError, match=r"current embeddings must be a 2-D array .* got shape \(10,\)"):
        mmd_test(rng.normal(size=(10, 3)), rng.normal(size=10))
    with pytest.raises(SchemaError, match="embedding sizes differ: reference 3, current 4"):
        mmd_test(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))
    table = pa.table({"embedding": pa.array([[1.0, 2.0], [1.0]], pa.list_(pa.float32()))})
    with pytest.raises(DataError, match="log column 'embedding' holds vectors of sizes 1–2"):
        logged_vectors(table, "embedding")
    tiny = mmd_test(rng.normal(size=(1, 3)), rng.normal(size=(5, 3)))
    assert tiny.p_value == 1.0  # too few rows: no evidence


def test_large_windows_are_subsampled_and_fast() -> None:
    import time

    rng = np.random.default_rng(5)
    t0 = time.perf_counter()
    r = mmd_test(_features(rng, 5000), _features(rng, 20_000), seed=0)
    assert r.n_reference == r.n_current == 500 and time.perf_counter() - t0 < 5.0


def test_reference_sample_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    cols = {"embedding": _features(rng, 20), "brightness": rng.random(20)}
    path = save_sample(tmp_path, cols)
    assert path.name == SAMPLE_FILE
    back = load_sample(tmp_path)
    assert back is not None and set(back) == set(cols)
    assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype for k, v in cols.items())
    assert load_sample(tmp_path / "nowhere") is None
    table = pa.table({"embedding": pa.array(cols["embedding"].tolist(), pa.list_(pa.float32()))})
    assert np.allclose(logged_vectors(table, "embedding"), cols["embedding"])


def test_a_window_s_checks_together_keep_one_false_alarm_rate() -> None:
    """The embedding and three per-row numbers of 200 clean splits: with every p-value corrected together,
    a window alarms (any check drifted) within the binomial band of alpha, not up to four times it."""
    from threadpoolctl import threadpool_limits

    from shopml.monitor.drift.config import DriftConfig

    cfg = DriftConfig(min_effect_numeric=0.0)  # significance alone: the strictest case for calibration
    alarms = 0
    with threadpool_limits(1):
        for seed in range(SEEDS):
            rng = np.random.default_rng([seed, 7])
            emb = _features(rng, 80)
            light = emb.mean(axis=1) + rng.normal(0, 0.1, 80)  # per-row numbers tied to the vectors
            cols = {"embedding": emb, "brightness": light, "contrast": light**2, "sharpness": rng.random(80)}
            ref = {k: v[:40] for k, v in cols.items()}
            checks = compare_sample(ref, {k: v[40:] for k, v in cols.items()}, cfg)
            assert [c.test for c in checks] == ["mmd", "ks", "ks", "ks"]
            alarms += any(c.drifted for c in checks)
    low, high = _band(SEEDS, ALPHA)
    assert low <= alarms <= high, f"{alarms} windows alarmed in {SEEDS} clean splits (band {low}–{high})"


def test_checks_name_too_little_data() -> None:
    rng = np.random.default_rng(8)
    checks = compare_sample(
        {"embedding": _features(rng, 100), "brightness": rng.random(100)},
        {"embedding": _features(rng, 10), "brightness": rng.random(10)},
    )
    assert [(c.column, c.verdict) for c in checks] == [
        ("embedding", "insufficient_data"),
        ("brightness", "insufficient_data"),
    ]
    assert checks[0].note == "fewer than 30 rows" and checks[0].n_current == 10
