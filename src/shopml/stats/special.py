"""Tail probabilities the drift tests need, in plain Python: no ``scipy`` import on a command's path.

``scipy.special`` costs about 0.25 s of start-up and ``scipy.stats`` about 1 s; a drift check needs three
survival functions, each a few lines of classical numerics (checked against scipy in the tests to
``1e-12`` relative):

- :func:`normal_sf` — the standard normal upper tail, ``0.5·erfc(z/√2)``;
- :func:`kolmogorov_sf` — the limiting Kolmogorov distribution ``P(√n·D > x)`` (``scipy.special.
  kolmogorov``): the alternating series ``2Σ(-1)^(k-1)·exp(-2k²x²)`` for ``x ≥ 1``, one minus the Jacobi
  theta form ``√(2π)/x·Σexp(-(2k-1)²π²/(8x²))`` below;
- :func:`chi2_sf` — the chi-square upper tail ``Q(df/2, x/2)``, the regularised upper incomplete gamma
  function by its power series (``x < a + 1``) or Lentz's continued fraction (otherwise).

>>> round(normal_sf(1.959963984540054), 6), round(kolmogorov_sf(1.358), 4), round(chi2_sf(3, 7.815), 4)
(0.025, 0.05, 0.05)
"""

from __future__ import annotations

import math

__all__ = ["chi2_sf", "kolmogorov_sf", "normal_sf"]

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 10_000


def normal_sf(z: float) -> float:
    """``P(Z > z)`` for a standard normal ``Z``."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def kolmogorov_sf(x: float) -> float:
    """``P(K > x)`` for the Kolmogorov distribution (the limit of ``√n·D`` under the null)."""
    if math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 1.0
    if x >= 1.0:
        total, k = 0.0, 1
        while True:
            term = math.exp(-2.0 * k * k * x * x)
            total += term if k % 2 else -term
            if term < _EPS * total or term == 0.0:
                return min(1.0, max(0.0, 2.0 * total))
            k += 1
    # small x: the CDF by the theta series converges fast; P(K > x) = 1 - CDF
    total, k = 0.0, 1
    c = math.pi * math.pi / (8.0 * x * x)
    while True:
        term = math.exp(-((2 * k - 1) ** 2) * c)
        total += term
        if term < _EPS * total or term == 0.0:
            break
        k += 1
    return min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / x * total))


def chi2_sf(df: float, x: float) -> float:
    """``P(X > x)`` for a chi-square variable ``X`` with ``df`` degrees of freedom."""
    if df <= 0 or math.isnan(x) or math.isnan(df):
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return _gamma_q(0.5 * df, 0.5 * x)


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function ``Q(a, x) = Γ(a, x) / Γ(a)``."""
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # the series for P(a, x) converges fast here
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # continued fraction for Q(a, x) (modified Lentz)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return min(1.0, math.exp(log_front) * h)
