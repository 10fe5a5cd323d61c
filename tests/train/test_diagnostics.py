"""The fit diagnosis on cases built to underfit and to overfit, and on a well-fitted model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from xgboost import XGBClassifier

from shopml.train import diagnose, learning_curve, rounds_curve
from shopml.train.diagnostics import pr_auc


def _circle(n: int, seed: int, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Positives inside a ring: no linear boundary separates them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    r = np.hypot(X[:, 0], X[:, 1])
    y = ((r > 1.9) & (r < 2.3)).astype(int)
    flip = rng.random(n) < noise
    return X, np.where(flip, 1 - y, y)


def _scores(
    model: object, X: np.ndarray, y: np.ndarray, Xv: np.ndarray, yv: np.ndarray
) -> tuple[float, float]:
    model.fit(X, y)  # type: ignore[attr-defined]
    return (
        pr_auc(y, model.predict_proba(X)[:, 1]),  # type: ignore[attr-defined]
        pr_auc(yv, model.predict_proba(Xv)[:, 1]),  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("seed", range(3))
def test_linear_model_on_nonlinear_target_is_underfit(seed: int) -> None:
    X, y = _circle(3000, seed)
    Xv, yv = _circle(3000, seed + 100)
    tr, va = _scores(LogisticRegression(), X, y, Xv, yv)
    d = diagnose(tr, va, float(y.mean()))
    assert d.verdict == "underfit", d.summary()
    assert "capacity" in d.remedy


@pytest.mark.parametrize("seed", range(3))
def test_deep_unregularised_trees_on_small_noisy_data_overfit(seed: int) -> None:
    X, y = _circle(400, seed, noise=0.15)
    Xv, yv = _circle(3000, seed + 100, noise=0.15)
    deep = XGBClassifier(
        n_estimators=300,
        max_depth=12,
        learning_rate=0.3,
        min_child_weight=0,
        reg_lambda=0,
        subsample=1.0,
        n_jobs=1,
        verbosity=0,
    )
    tr, va = _scores(deep, X, y, Xv, yv)
    d = diagnose(tr, va, float(y.mean()))
    assert d.verdict == "overfit", d.summary()
    assert d.relative_gap >= 0.10 and "regularisation" in d.remedy


def _smooth(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A noisy but learnable target: P(y=1) = logistic(2·x0 + x1² − 4)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    p = 1 / (1 + np.exp(-(2 * X[:, 0] + X[:, 1] ** 2 - 4)))
    return X, (rng.random(n) < p).astype(int)


@pytest.mark.parametrize("seed", range(3))
def test_right_sized_model_is_good_fit(seed: int) -> None:
    X, y = _smooth(10_000, seed)
    Xv, yv = _smooth(5000, seed + 100)
    model = XGBClassifier(
        n_estimators=60, max_depth=2, learning_rate=0.1, min_child_weight=20, n_jobs=1, verbosity=0
    )
    tr, va = _scores(model, X, y, Xv, yv)
    d = diagnose(tr, va, float(y.mean()))
    assert d.verdict == "good fit", d.summary()


def test_declining_validation_curve_is_overfit() -> None:
    d = diagnose(0.80, 0.78, 0.05, valid_curve=[0.5, 0.7, 0.82, 0.78, 0.74])
    assert d.verdict == "overfit" and d.curve_decline == pytest.approx((0.82 - 0.74) / 0.82)


def test_curves_from_a_boosted_model() -> None:
    X, y = _circle(1500, 0)
    Xv, yv = _circle(800, 1)
    model = XGBClassifier(n_estimators=20, max_depth=3, eval_metric="aucpr", n_jobs=1, verbosity=0)
    model.fit(X, y, eval_set=[(X, y), (Xv, yv)], verbose=False)
    curve = rounds_curve(model)
    assert len(curve["train"]) == len(curve["valid"]) == 20

    def fit_score(idx: np.ndarray) -> tuple[float, float]:
        m = XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, verbosity=0).fit(X[idx], y[idx])
        return pr_auc(y[idx], m.predict_proba(X[idx])[:, 1]), pr_auc(yv, m.predict_proba(Xv)[:, 1])

    lc = learning_curve(fit_score, len(y), [0.5, 0.25, 1.0])
    assert lc["sizes"] == [375, 750, 1500] and len(lc["train"]) == 3
