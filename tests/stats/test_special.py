"""The plain-Python tail probabilities agree with scipy's across their ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from shopml.stats.special import chi2_sf, kolmogorov_sf, normal_sf


@pytest.mark.parametrize("z", [-8.0, -2.0, -0.1, 0.0, 0.5, 1.96, 4.0, 10.0, 30.0])
def test_normal_sf_matches_scipy(z: float) -> None:
    assert math.isclose(normal_sf(z), float(special.ndtr(-z)), rel_tol=1e-12, abs_tol=1e-300)


def test_kolmogorov_sf_matches_scipy_over_its_range() -> None:
    for x in [0.0, 0.05, 0.2, 0.5, 0.8, 0.99, 1.0, 1.01, 1.2, 1.36, 2.0, 3.0, 5.0, 8.0, 20.0]:
        want = float(special.kolmogorov(x))
        assert math.isclose(kolmogorov_sf(x), want, rel_tol=1e-10, abs_tol=1e-15), x
    assert kolmogorov_sf(-1.0) == 1.0
    assert math.isnan(kolmogorov_sf(math.nan))


def test_chi2_sf_matches_scipy_over_degrees_and_tails() -> None:
    rng = np.random.default_rng(0)
    for df in [1, 2, 3, 5, 9, 30, 99, 400, 2.5]:
        for x in [1e-6, 0.3, df * 0.5, df, df + 1, df * 2, df * 5 + 40, rng.uniform(0, 3 * df)]:
            want = float(stats.chi2.sf(x, df))
            assert math.isclose(chi2_sf(df, x), want, rel_tol=1e-9, abs_tol=1e-300), (df, x)
    assert chi2_sf(3, 0.0) == 1.0
    assert chi2_sf(3, math.inf) == 0.0
    assert math.isnan(chi2_sf(0, 1.0))
