"""Every kind's metric family against scikit-learn or a hand count, and the gate's paired comparison."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_absolute_error

from shopml.errors import ConfigError, DataError
from shopml.kinds import KINDS, get_kind
from shopml.stats import Costs


def test_registry_names_every_kind_and_rejects_unknown() -> None:
    assert {"binary", "multiclass", "ranking", "regression"} <= set(KINDS)
    for kind in KINDS.values():
        assert kind.primary_metric in kind.metrics
        assert kind.served_output
        assert kind.output_drift
    with pytest.raises(ConfigError, match=r"unknown model kind 'multi'.*binary"):
        get_kind("multi")


def test_binary_delegates_to_train_metrics() -> None:
    from shopml.train.metrics import point_metrics

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.2).astype(np.int8)
    s = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    costs = Costs(false_positive=5.0, false_negative=20.0)
    want = point_metrics(y, s, 0.5, costs=costs)
    got = get_kind("binary").point_metrics(y, s, threshold=0.5, costs=costs)
    assert got == pytest.approx(want)
    w = rng.poisson(1.0, size=(4, 300)).astype(np.float64)
    fam = get_kind("binary").weighted_metrics(y, s, threshold=0.5)(w)["pr_auc"]
    prim = get_kind("binary").weighted_primary(y, s)(w)
    assert fam == pytest.approx(prim)


def test_multiclass_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4), size=200)
    y = rng.integers(0, 4, size=200)
    m = get_kind("multiclass").point_metrics(y, p)
    pred = p.argmax(axis=1)
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1, 2, 3]))


def test_regression_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.gamma(2.0, 30.0, size=100)
    v = y + rng.normal(0, 5, size=100)
    m = get_kind("regression").point_metrics(y, v)
    assert m["mae"] == pytest.approx(mean_absolute_error(y, v))
    assert m["wape"] == pytest.approx(np.abs(v - y).sum() / np.abs(y).sum())


def test_ranking_full_ranking_with_conservative_ties() -> None:
    kind = get_kind("ranking")
    scores = np.array(
        [
            [0.9, 0.8, 0.1, 0.0],  # true item 0: rank 1
            [0.5, 0.5, 0.5, 0.1],  # true item 1 tied with two others: rank 3 (ties count against it)
            [0.1, 0.2, 0.3, 0.4],  # true item 0: rank 4
            [0.3, 0.2, 0.1, 0.0],  # unknown item (-1): a miss
        ]
    )
    y = np.array([0, 1, 0, -1])
    m1 = kind.point_metrics(y, scores, k=1)
    m3 = kind.point_metrics(y, scores, k=3)
    assert m1 == pytest.approx({"recall_at_k": 0.25, "mrr_at_k": 0.25})
    assert m3 == pytest.approx({"recall_at_k": 0.5, "mrr_at_k": (1 + 1 / 3) / 4})
    constant = np.zeros((50, 20))
    assert kind.point_metrics(np.arange(50) % 20, constant, k=10)["recall_at_k"] == 0.0


@pytest.mark.parametrize("name", ["multiclass", "regression", "ranking"])
def test_paired_difference_positive_means_challenger_better(name: str) -> None:
    kind = get_kind(name)
    rng = np.random.default_rng(3)
    n = 400
    if name == "regression":
        y = rng.normal(100, 20, n)
        good, bad = y + rng.normal(0, 2, n), y + rng.normal(0, 20, n)
    else:
        c = 5
        y = rng.integers(0, c, n)
        noise = rng.random((n, c))
        good = noise.copy()
        good[np.arange(n), y] += 1.0
        bad = noise
    w = rng.poisson(1.0, size=(50, n)).astype(np.float64)
    ctx = {"k": 1} if name == "ranking" else {}
    assert (kind.primary_difference(y, good, bad, w, **ctx) > 0).all()
    assert (kind.primary_difference(y, bad, good, w, **ctx) < 0).all()


def test_labels_checked_with_named_field() -> None:
    meta = {"classes": ["a", "b", "c"], "items": ["x", "y"]}
    assert get_kind("multiclass").check_labels(["c", "a"], meta).tolist() == [2, 0]
    with pytest.raises(DataError, match=r"reason must be one of the classes.*'z' \(row 1\)"):
        get_kind("multiclass").check_labels(["a", "z"], meta, field="reason")
    with pytest.raises(DataError, match=r"label must be a finite number, got 'x' \(row 0\)"):
        get_kind("regression").check_labels(["x"], meta)
    with pytest.raises(DataError, match=r"is_fraud must be 0 or 1, got 2 \(row 0\)"):
        get_kind("binary").check_labels([2], meta, field="is_fraud")
    assert get_kind("ranking").check_labels(["y", "nope"], meta).tolist() == [1, -1]
    assert get_kind("binary").label.missing_after_maturity == 0.0
    assert get_kind("regression").label.missing_after_maturity is None


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_intervals_cover_the_point_and_compare_signs_the_difference(name: str) -> None:
    kind = get_kind(name)
    rng = np.random.default_rng(4)
    n = 300
    if name == "regression":
        y = rng.normal(50, 10, n)
        good, bad = y + rng.normal(0, 1, n), y + rng.normal(0, 8, n)
    elif name == "binary":
        y = (rng.random(n) < 0.3).astype(np.int8)
        good, bad = np.clip(0.6 * y + 0.4 * rng.random(n), 0, 1), rng.random(n)
    else:
        y = rng.integers(0, 3, n)
        bad = rng.dirichlet(np.ones(3), size=n)
        good = bad.copy()
        good[np.arange(n), y] += 2.0
        good /= good.sum(axis=1, keepdims=True)
    iv = kind.intervals(y, good, n_resamples=200, level=0.9, seed=1)
    assert list(iv) == list(kind.metrics)
    p = iv[kind.primary_metric]
    assert p.low <= p.value <= p.high and p.level == 0.9
    d = kind.compare(y, champion=bad, challenger=good, n_resamples=200, seed=2)
    assert d.lower > 0 and d.diff.value > 0
