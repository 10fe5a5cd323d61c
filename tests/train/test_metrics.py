"""Metrics agree with scikit-learn; bootstrap intervals cover the truth at about their level."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    matthews_corrcoef,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from shopml.errors import InsufficientDataError
from shopml.stats import Costs
from shopml.train import METRICS, bootstrap_metrics, point_metrics


@pytest.mark.parametrize("seed", range(5))
def test_point_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    y = (rng.random(n) < 0.04).astype(int)
    s = np.round(np.clip(0.3 * rng.random(n) + 0.5 * y * rng.random(n), 0, 1), 2)  # many ties
    cost = rng.uniform(10, 100, n)
    m = point_metrics(y, s, 0.3, costs=Costs(false_positive=5.0), fn_costs=cost)
    pred = (s >= 0.3).astype(int)
    p, r, _ = precision_recall_curve(y, s)
    expected = {
        "pr_auc": average_precision_score(y, s),
        "roc_auc": roc_auc_score(y, s),
        "f1": f1_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred),
        "recall_at_precision": r[p >= 0.9].max() if np.any(p >= 0.9) else 0.0,
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "mcc": matthews_corrcoef(y, pred),
        "brier": brier_score_loss(y, s),
        "expected_cost": (np.sum(cost * (y == 1) * (pred == 0)) + 5.0 * np.sum((y == 0) & (pred == 1))) / n,
    }
    for k in METRICS:
        assert m[k] == pytest.approx(expected[k], abs=1e-12), k


def test_bootstrap_interval_brackets_point_and_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.05).astype(int)
    s = rng.random(2000) * 0.6 + 0.4 * y
    a = bootstrap_metrics(y, s, 0.5, n_resamples=100, seed=3)
    b = bootstrap_metrics(y, s, 0.5, n_resamples=100, seed=3)
    assert a == b
    for k in METRICS:
        assert a[k].low <= a[k].value <= a[k].high, k


def test_bootstrap_roc_auc_interval_covers_truth_about_95_percent() -> None:
    """Binormal scores (positives N(1,1), negatives N(0,1)): true ROC-AUC = Φ(1/√2)."""
    truth = norm.cdf(1 / np.sqrt(2))
    hits = 0
    runs = 120
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        y = (rng.random(600) < 0.2).astype(int)
        s = rng.normal(size=600) + y
        ci = bootstrap_metrics(y, s, 0.5, n_resamples=200, seed=seed)["roc_auc"]
        hits += ci.low <= truth <= ci.high
    assert 0.88 <= hits / runs <= 0.99


def test_grouped_bootstrap_covers_recall_when_positives_come_in_bursts() -> None:
    """20 bursts of 5 frauds, each burst (one hour) caught together with probability 0.6, so recall at the
    threshold is 0.6: resampling rows under-covers, resampling hour groups keeps about 95%."""
    runs, hits = 120, {"rows": 0, "groups": 0}
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        caught = np.repeat(rng.random(20) < 0.6, 5)
        s = np.r_[rng.random(1500) * 0.4, np.where(caught, 0.9, 0.1) + rng.random(100) * 0.05]
        y = np.r_[np.zeros(1500), np.ones(100)].astype(int)
        hours = np.r_[rng.integers(0, 24 * 7, 1500), np.repeat(rng.integers(0, 24 * 7, 20), 5)]
        for kind, groups in (("rows", None), ("groups", hours)):
            ci = bootstrap_metrics(y, s, 0.5, n_resamples=200, seed=seed, groups=groups)["recall"]
            hits[kind] += ci.low <= 0.6 <= ci.high
    assert hits["rows"] / runs < 0.8, hits
    assert 0.88 <= hits["groups"] / runs <= 0.99, hits


def test_single_class_is_named() -> None:
    with pytest.raises(InsufficientDataError, match="both classes"):
        point_metrics(np.zeros(10), np.linspace(0, 1, 10), 0.5)
