"""Fit diagnostics of a tabular model: the validation curve over boosting rounds, the learning curve over
training size, and the diagnosis (the rule of :mod:`shopml.stats.fit`, on PR-AUC with the positive rate
as chance level)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from shopml.stats.fit import REMEDIES, Diagnosis, diagnose

__all__ = ["REMEDIES", "Diagnosis", "diagnose", "learning_curve", "rounds_curve"]


def rounds_curve(model: Any) -> dict[str, list[float]]:
    """Validation curve over boosting rounds from a fitted XGBoost model's eval history (PR-AUC of the
    training period and of the validation period after each round)."""
    hist = model.evals_result()
    keys = list(hist)
    metric = next(iter(hist[keys[-1]]))
    train = hist[keys[0]][metric] if len(keys) > 1 else []
    return {"train": [float(v) for v in train], "valid": [float(v) for v in hist[keys[-1]][metric]]}


def learning_curve(
    fit_score: Callable[[np.ndarray], tuple[float, float]],
    n_train: int,
    sizes: Sequence[float],
) -> dict[str, list[float]]:
    """Train and validation score over training size. ``fit_score(idx)`` fits on training rows ``idx``
    (the most recent ``size`` share: more data means reaching further back) and returns both scores."""
    out: dict[str, list[float]] = {"sizes": [], "train": [], "valid": []}
    for frac in sorted(sizes):
        k = max(2, round(n_train * frac))
        tr, va = fit_score(np.arange(n_train - k, n_train))
        out["sizes"].append(k)
        out["train"].append(float(tr))
        out["valid"].append(float(va))
    return out


def pr_auc(y: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Average precision (rows counted ``sample_weight`` times), NaN when ``y`` has a single class."""
    if not 0 < np.sum(y) < len(y):
        return float("nan")
    return float(average_precision_score(y, scores, sample_weight=sample_weight))
