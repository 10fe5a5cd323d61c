"""The domain classifier: its NumPy boosted trees, and its false-alarm rate over many seeds."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from scipy import stats

from shopml.monitor import build_profile
from shopml.monitor.drift.boosting import BoostedTrees
from shopml.monitor.drift.multivariate import domain_classifier
from shopml.schema import FeatureSpec, Schema

SCHEMA = Schema(
    features=(
        FeatureSpec(name="a", kind="numeric", nullable=True),
        FeatureSpec(name="b", kind="numeric"),
        FeatureSpec(name="channel", kind="categorical"),
    )
)


def _table(n: int, rng: np.random.Generator, corr: float = 0.0) -> pa.Table:
    a = rng.normal(size=n)
    b = corr * a + math.sqrt(1 - corr**2) * rng.normal(size=n)
    a = np.where(rng.random(n) < 0.05, np.nan, a)
    return pa.table(
        {"a": pa.array(a, from_pandas=True), "b": b, "channel": rng.choice(["web", "app", "pos"], n)}
    )


def test_trees_learn_an_interaction_and_handle_missing_values() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 4))
    x[rng.random(3000) < 0.2, 2] = np.nan
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(float)  # XOR: no single feature separates
    model = BoostedTrees().fit(x[:2000], y[:2000])
    p = model.predict_proba(x[2000:])
    assert np.all((p >= 0) & (p <= 1))
    assert np.mean((p > 0.5) == y[2000:]) > 0.9
    assert set(model.total_gain()) >= {0, 1}
    # deterministic: the same data gives the same model
    again = BoostedTrees().fit(x[:2000], y[:2000]).predict_proba(x[2000:])
    np.testing.assert_array_equal(p, again)


def test_a_changed_correlation_is_found_though_every_marginal_stays() -> None:
    rng = np.random.default_rng(4)
    ref, cur = _table(2000, rng, 0.0), _table(2000, rng, 0.9)
    res = domain_classifier(
        build_profile(ref, SCHEMA, sample_size=2000),
        build_profile(cur, SCHEMA, sample_size=2000),
        ["a", "b", "channel"],
        alpha=0.05,
        min_auc=0.55,
    )
    assert res.drifted and res.auc is not None and res.auc > 0.6
    assert set(list(res.top_features)[:2]) == {"a", "b"}


def test_false_alarm_rate_is_calibrated_over_many_seeds() -> None:
    """With no drift, p < alpha in about alpha of the runs (150 seeds; a 99.9% binomial band)."""
    alpha, runs = 0.1, 150
    p_values = []
    for seed in range(runs):
        rng = np.random.default_rng(1000 + seed)
        ref = build_profile(_table(300, rng), SCHEMA, sample_size=300, seed=seed)
        cur = build_profile(_table(300, rng), SCHEMA, sample_size=300, seed=seed + 1)
        res = domain_classifier(ref, cur, ["a", "b", "channel"], alpha=alpha, min_auc=0.0, seed=seed)
        assert res.p_value is not None
        p_values.append(res.p_value)
    hits = sum(p < alpha for p in p_values)
    low, high = stats.binom.ppf([0.0005, 0.9995], runs, alpha)
    assert low <= hits <= high, f"{hits} false alarms in {runs} runs at alpha {alpha}"
    # and the p-values are roughly uniform, not only right at alpha
    assert stats.kstest(p_values, "uniform").pvalue > 0.001
