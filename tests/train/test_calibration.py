"""Calibration method rule, calibration quality, and threshold choice against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import ConfigError, InsufficientDataError
from shopml.stats import Costs
from shopml.train import ScoreCalibrator, choose_threshold


def _distorted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True P(y=1) = p, but the score is inflated like a model trained on under-sampled data."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) * 1.5 - 4)))
    y = (rng.random(n) < p).astype(int)
    beta = 0.05  # kept share of negatives
    return p / (p + beta * (1 - p)), y


def test_auto_rule_depends_on_positive_count() -> None:
    s, y = _distorted(20_000, 0)
    assert y.sum() < 1000
    assert ScoreCalibrator().fit(s, y).method_ == "sigmoid"
    assert ScoreCalibrator(min_positives_isotonic=100).fit(s, y).method_ == "isotonic"
    assert ScoreCalibrator("isotonic").fit(s, y).method_ == "isotonic"


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_repairs_resampling_distortion(method: str) -> None:
    s_fit, y_fit = _distorted(40_000, 1)
    s_new, y_new = _distorted(40_000, 2)
    cal = ScoreCalibrator(method).fit(s_fit, y_fit)  # type: ignore[arg-type]
    q = cal.transform(s_new)
    assert np.mean((q - y_new) ** 2) < 0.8 * np.mean((s_new - y_new) ** 2)
    assert abs(q.mean() - y_new.mean()) < 0.005
    assert np.all(np.diff(cal.transform(np.linspace(0, 1, 101))) >= 0)  # monotone


def test_calibration_needs_both_classes() -> None:
    with pytest.raises(InsufficientDataError, match="both classes"):
        ScoreCalibrator().fit(np.linspace(0, 1, 10), np.zeros(10))


def _brute(s: np.ndarray, y: np.ndarray, c: np.ndarray, fp: float) -> tuple[float, float, float, float]:
    best_f1, t_f1, best_cost, t_cost = -1.0, 0.0, np.inf, 0.0
    for t in np.unique(s):
        pred = s >= t
        tp = np.sum(pred & (y == 1))
        f1 = 2 * tp / (pred.sum() + y.sum())
        cost = np.sum(c[(y == 1) & ~pred]) + fp * np.sum(pred & (y == 0))
        if f1 > best_f1:
            best_f1, t_f1 = f1, t
        if cost < best_cost:
            best_cost, t_cost = cost, t
    return t_f1, best_f1, t_cost, best_cost


@pytest.mark.parametrize("seed", range(4))
def test_threshold_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(800) < 0.1).astype(int)
    s = np.round(rng.random(800) * 0.7 + 0.3 * y * rng.random(800), 3)
    c = rng.uniform(1, 200, 800)
    t_f1, f1, _, cost = _brute(s, y, c, 7.0)
    got = choose_threshold(s, y, "f1")
    assert (got.threshold, got.value) == pytest.approx((t_f1, f1))
    got = choose_threshold(s, y, "cost", costs=Costs(false_positive=7.0), fn_costs=c)
    assert got.value == pytest.approx(min(cost, float(np.sum(c[y == 1]))))


def test_expensive_false_alarms_flag_nothing() -> None:
    s = np.array([0.1, 0.2, 0.3, 0.9])
    y = np.array([0, 1, 0, 0])
    got = choose_threshold(s, y, "cost", costs=Costs(false_positive=100.0), fn_costs=np.ones(4))
    assert got.threshold > 0.9 and got.value == 1.0


def test_unknown_objective() -> None:
    with pytest.raises(ConfigError, match="'f1' or 'cost'"):
        choose_threshold(np.array([0.1, 0.9]), np.array([0, 1]), "auc")  # type: ignore[arg-type]
