"""The fast sampling/sorting helpers equal the numpy idioms they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopml.simulate.fastops import inverse_cdf, sorted_uniforms, stable_argsort


@pytest.mark.parametrize("seed", range(20))
def test_stable_argsort_equals_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    high = int(10 ** rng.integers(1, 16))  # one to three 16-bit passes, or the fallback above 2**48
    values = rng.integers(0, high, int(rng.integers(0, 5000)))
    np.testing.assert_array_equal(stable_argsort(values), np.argsort(values, kind="stable"))


@pytest.mark.parametrize("seed", range(20))
def test_inverse_cdf_equals_searchsorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.random(int(rng.integers(1, 40))) ** int(rng.integers(1, 8))  # some tiny weights: crowded bins
    cdf = np.cumsum(w) / w.sum()
    u = np.concatenate([rng.random(20_000), cdf[cdf < 1.0], [0.0]])  # boundaries hit exactly
    np.testing.assert_array_equal(inverse_cdf(cdf, u), np.searchsorted(cdf, u, "right"))


def test_sorted_uniforms_are_sorted_uniforms() -> None:
    u = sorted_uniforms(np.random.default_rng(0), 50_000)
    assert (np.diff(u) >= 0).all() and u[0] >= 0.0 and u[-1] < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.01
