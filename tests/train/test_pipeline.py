"""Every imbalance strategy fits; resampling happens only at fit; the serving path drops the sampler."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from imblearn.base import BaseSampler

from shopml.errors import ConfigError
from shopml.train import STRATEGIES, XGBParams, build_baseline, build_pipeline, load_dataset, preset
from shopml.train.pipeline import fit_pipeline, positive_scores, serving_pipeline

PARAMS = XGBParams(n_estimators=30, max_depth=3, early_stopping_rounds=5, n_jobs=1)


@pytest.fixture(scope="module")
def data(transactions: pa.Table):  # type: ignore[no-untyped-def]
    ds = load_dataset(preset("fraud", "unused"), transactions)
    n = ds.y.size
    return ds, np.arange(0, int(n * 0.7)), np.arange(int(n * 0.7), n)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategy_fits_and_resamples_only_at_fit(
    strategy: str, data, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va = data
    pipe = build_pipeline(strategy, ds.numeric, ds.categorical, PARAMS, seed=0, pos_weight=20.0)
    calls: list[int] = []
    original = BaseSampler.fit_resample

    def spy(self, X, y, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(y))
        return original(self, X, y, **kw)

    monkeypatch.setattr(BaseSampler, "fit_resample", spy)
    fit_pipeline(pipe, ds.frame.iloc[tr], ds.y[tr], ds.frame.iloc[va], ds.y[va])
    resampled_at_fit = len(calls)
    scores = positive_scores(pipe, ds.frame.iloc[va])
    assert len(calls) == resampled_at_fit  # predicting never resamples
    assert (resampled_at_fit > 0) == (strategy not in ("none", "class_weight"))
    assert scores.shape == (va.size,) and np.all((scores >= 0) & (scores <= 1))
    serving = serving_pipeline(pipe)
    assert "sampler" not in serving.named_steps
    np.testing.assert_array_equal(positive_scores(serving, ds.frame.iloc[va]), scores)
    weight = pipe.named_steps["model"].get_params()["scale_pos_weight"]
    assert weight == (20.0 if strategy == "class_weight" else 1.0)


def test_unseen_and_missing_categories_are_scored(data) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va = data
    pipe = build_pipeline("none", ds.numeric, ds.categorical, PARAMS)
    fit_pipeline(pipe, ds.frame.iloc[tr], ds.y[tr], ds.frame.iloc[va], ds.y[va])
    frame = ds.frame.iloc[va[:5]].copy()
    frame["country"] = ["XX", "", "DE", "YY", ""]
    frame["amount_avg_30d"] = np.nan
    assert np.all(np.isfinite(positive_scores(pipe, frame)))


def test_baseline_is_logistic_and_handles_missing(data) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va = data
    base = build_baseline(ds.numeric, ds.categorical).fit(ds.frame.iloc[tr], ds.y[tr])
    assert type(base.named_steps["model"]).__name__ == "LogisticRegression"
    assert np.all(np.isfinite(positive_scores(base, ds.frame.iloc[va])))


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown imbalance strategy 'smoot'"):
        build_pipeline("smoot", ["a"], [], PARAMS)
