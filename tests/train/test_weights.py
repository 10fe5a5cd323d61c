"""Per-row training weights (``weight_column``): they reach the model fit, are never an input, and bad
weights or a resampling strategy with weights fail naming the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shopml.errors import ConfigError, DataError
from shopml.registry import ModelBundle
from shopml.stats import Costs
from shopml.train import TrainConfig, train

Small = Callable[..., TrainConfig]


def _with_weights(table: pa.Table, weights: np.ndarray) -> pa.Table:
    return table.append_column("w", pa.array(weights))


def _ages(table: pa.Table) -> np.ndarray:
    t = pc.cast(table.column("event_time"), pa.int64()).to_numpy(zero_copy_only=False)
    return (t.max() - t) / 86_400e6


def _run(small_config: Small, tmp: Path, table: pa.Table, **over: object) -> tuple[float, Path]:
    result = train(small_config(tmp, **over), table=table, out_dir=tmp / "bundle")
    return result.metrics["pr_auc"].value, result.bundle_dir


def test_unit_weights_change_nothing_and_decay_weights_reach_the_fit(
    tmp_path: Path, transactions: pa.Table, small_config: Small
) -> None:
    plain, _ = _run(small_config, tmp_path / "plain", transactions)
    ones, bundle = _run(
        small_config,
        tmp_path / "ones",
        _with_weights(transactions, np.ones(transactions.num_rows)),
        weight_column="w",
    )
    assert ones == pytest.approx(plain, abs=1e-9)
    assert "w" not in ModelBundle.load(bundle).input_kinds()  # a weight is never a model input
    # a 2-day half-life makes the first tree a bare 0 leaf: the case onnxmltools exports wrongly (fixed)
    decayed = _with_weights(transactions, 0.5 ** (_ages(transactions) / 2.0))
    weighted, _ = _run(small_config, tmp_path / "decay", decayed, weight_column="w")
    assert weighted != pytest.approx(plain, abs=1e-6)


def test_auto_with_weights_compares_only_strategies_that_keep_rows(
    tmp_path: Path, transactions: pa.Table, small_config: Small
) -> None:
    table = _with_weights(transactions, 0.5 ** (_ages(transactions) / 10.0))
    result = train(
        small_config(tmp_path, imbalance="auto", weight_column="w"), table=table, out_dir=tmp_path / "b"
    )
    assert {row["strategy"] for row in result.imbalance_table} == {"none", "class_weight"}


def test_bad_weights_are_named(tmp_path: Path, transactions: pa.Table, small_config: Small) -> None:
    n = transactions.num_rows
    with pytest.raises(ConfigError, match="weight_column 'w' needs imbalance one of none, class_weight"):
        small_config(tmp_path, imbalance="smote", weight_column="w")
    with pytest.raises(DataError, match="weight_column 'w' is not a column"):
        train(small_config(tmp_path, weight_column="w"), table=transactions, out_dir=tmp_path / "b")
    negative = np.ones(n)
    negative[7] = -1.0
    with pytest.raises(DataError, match=r"weight_column 'w': 1 rows are null, negative or not finite"):
        train(small_config(tmp_path, weight_column="w"), table=_with_weights(transactions, negative))
    with pytest.raises(DataError, match="weight_column 'w' is zero in every row"):
        train(small_config(tmp_path, weight_column="w"), table=_with_weights(transactions, np.zeros(n)))
    text = transactions.append_column("w", pa.array(["1"] * n))
    with pytest.raises(DataError, match="weight_column 'w' must be numeric"):
        train(small_config(tmp_path, weight_column="w"), table=text)


def test_a_weight_of_two_counts_as_a_duplicated_row_in_calibration_threshold_and_metrics() -> None:
    from shopml.train.calibration import ScoreCalibrator, choose_threshold
    from shopml.train.metrics import bootstrap_metrics, point_metrics

    rng = np.random.default_rng(5)
    s = rng.random(3000)
    y = (rng.random(3000) < s**3).astype(int)
    w = np.where(rng.random(3000) < 0.3, 2.0, 1.0)
    dup = np.repeat(np.arange(3000), w.astype(int))  # each weight-2 row twice
    for method in ("sigmoid", "isotonic"):
        a = ScoreCalibrator(method).fit(s, y, sample_weight=w).transform(s)
        b = ScoreCalibrator(method).fit(s[dup], y[dup]).transform(s)
        assert np.allclose(a, b, atol=1e-4), method
    for objective in ("f1", "cost"):
        ta = choose_threshold(s, y, objective, costs=Costs(false_positive=0.2), sample_weight=w)  # type: ignore[arg-type]
        tb = choose_threshold(s[dup], y[dup], objective, costs=Costs(false_positive=0.2))  # type: ignore[arg-type]
        assert ta.threshold == tb.threshold and ta.value == pytest.approx(tb.value)
    weighted = bootstrap_metrics(y, s, 0.5, n_resamples=50, sample_weight=w)
    plain = point_metrics(y[dup], s[dup], 0.5)
    for k in ("pr_auc", "roc_auc", "f1", "expected_cost", "brier"):
        assert weighted[k].value == pytest.approx(plain[k]), k
        assert weighted[k].low <= weighted[k].value <= weighted[k].high


def test_bad_metric_weights_are_named() -> None:
    from shopml.train.metrics import bootstrap_metrics

    y, s = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.3, 0.6])
    with pytest.raises(DataError, match="sample_weight must hold 4 finite weights"):
        bootstrap_metrics(y, s, 0.5, n_resamples=10, sample_weight=np.array([1.0, -1.0, 1.0, 1.0]))


def test_early_stopping_watches_the_weighted_validation_metric() -> None:
    """A validation weight of 2 counts as a duplicated validation row in XGBoost's eval metric (the curve
    early stopping follows), and validation PR-AUC is weighted the same way."""
    import pandas as pd

    from shopml.train.config import XGBParams
    from shopml.train.diagnostics import pr_auc
    from shopml.train.pipeline import build_pipeline, fit_pipeline

    rng = np.random.default_rng(3)
    n = 4000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(frame["a"] * 2 - 3 + (frame["c"] == "x"))))).astype(int).to_numpy()
    tr, va = np.arange(3000), np.arange(3000, n)
    w_va = np.where(rng.random(va.size) < 0.4, 2.0, 1.0)
    dup = np.repeat(va, w_va.astype(int))
    params = XGBParams(n_estimators=40, early_stopping_rounds=5, n_jobs=1)

    def curve(valid: np.ndarray, weights: np.ndarray | None) -> list[float]:
        pipe = build_pipeline("none", ["a", "b"], ["c"], params, seed=1)
        fit_pipeline(pipe, frame.iloc[tr], y[tr], frame.iloc[valid], y[valid], None, weights)
        return list(pipe.named_steps["model"].evals_result()["validation_1"]["aucpr"])

    weighted, duplicated, plain = curve(va, w_va), curve(dup, None), curve(va, None)
    assert np.allclose(weighted, duplicated, atol=1e-6)
    assert not np.allclose(weighted[: len(plain)], plain[: len(weighted)], atol=1e-6)
    s = rng.random(va.size)
    assert pr_auc(y[va], s, w_va) == pytest.approx(pr_auc(y[dup], s[dup - 3000]))
