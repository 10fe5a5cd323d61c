"""The ONNX serving path matches the Python pipeline (≤ 1e-5) for both calibrators; a mismatch fails."""

from __future__ import annotations

import numpy as np
import onnx
import pyarrow as pa
import pytest

from shopml.errors import ModelError
from shopml.schema import FeatureKind
from shopml.train import (
    CalibratedModel,
    ScoreCalibrator,
    XGBParams,
    build_pipeline,
    check_parity,
    export_onnx,
    load_dataset,
    onnx_scores,
    preset,
)
from shopml.train.pipeline import fit_pipeline, positive_scores

PARAMS = XGBParams(n_estimators=40, max_depth=4, early_stopping_rounds=10, n_jobs=1)


@pytest.fixture(scope="module")
def fitted(transactions: pa.Table):  # type: ignore[no-untyped-def]
    ds = load_dataset(preset("fraud", "unused"), transactions)
    n = ds.y.size
    tr, va, te = np.arange(0, int(n * 0.6)), np.arange(int(n * 0.6), int(n * 0.8)), np.arange(int(n * 0.8), n)
    return ds, tr, va, te


@pytest.mark.parametrize(
    ("strategy", "method"), [("none", "sigmoid"), ("smote", "isotonic"), ("undersample", "sigmoid")]
)
def test_parity_within_tolerance(fitted, strategy: str, method: str) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va, te = fitted
    pipe = build_pipeline(strategy, ds.numeric, ds.categorical, PARAMS, seed=1)
    fit_pipeline(pipe, ds.frame.iloc[tr], ds.y[tr], ds.frame.iloc[va], ds.y[va])
    cal = ScoreCalibrator(method, min_positives_isotonic=1).fit(
        positive_scores(pipe, ds.frame.iloc[va]), ds.y[va]
    )  # type: ignore[arg-type]
    model = CalibratedModel(pipe, cal, 0.5, ds.inputs, ds.kinds)
    graph = export_onnx(model.serving, cal, ds.inputs, ds.kinds)
    assert [i.name for i in graph.graph.input] == ds.inputs
    assert [o.name for o in graph.graph.output] == ["score"]
    frame = ds.frame.iloc[te].copy()
    frame.loc[frame.index[:3], "country"] = ["ZZ", "", "QQ"]  # unseen and missing categories
    frame.loc[frame.index[3:6], "amount_avg_30d"] = np.nan  # missing numbers
    delta = check_parity(graph, frame, model.scores(frame), ds.inputs, ds.kinds)
    assert delta <= 1e-5
    restored = onnx.load_from_string(graph.SerializeToString())
    np.testing.assert_allclose(
        onnx_scores(restored, frame, ds.inputs, ds.kinds), model.scores(frame), atol=1e-5
    )


def test_input_types_follow_the_contract(fitted) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va, _ = fitted
    pipe = build_pipeline("none", ds.numeric, ds.categorical, PARAMS)
    fit_pipeline(pipe, ds.frame.iloc[tr], ds.y[tr], ds.frame.iloc[va], ds.y[va])
    cal = ScoreCalibrator().fit(positive_scores(pipe, ds.frame.iloc[va]), ds.y[va])
    graph = export_onnx(
        CalibratedModel(pipe, cal, 0.5, ds.inputs, ds.kinds).serving, cal, ds.inputs, ds.kinds
    )
    for inp in graph.graph.input:
        elem = inp.type.tensor_type.elem_type
        want = (
            onnx.TensorProto.STRING
            if ds.kinds[inp.name] == FeatureKind.CATEGORICAL
            else onnx.TensorProto.FLOAT
        )
        assert elem == want, inp.name
        assert inp.type.tensor_type.shape.dim[1].dim_value == 1


def test_mismatch_fails_loudly(fitted) -> None:  # type: ignore[no-untyped-def]
    ds, tr, va, te = fitted
    pipe = build_pipeline("none", ds.numeric, ds.categorical, PARAMS)
    fit_pipeline(pipe, ds.frame.iloc[tr], ds.y[tr], ds.frame.iloc[va], ds.y[va])
    cal = ScoreCalibrator().fit(positive_scores(pipe, ds.frame.iloc[va]), ds.y[va])
    model = CalibratedModel(pipe, cal, 0.5, ds.inputs, ds.kinds)
    graph = export_onnx(model.serving, cal, ds.inputs, ds.kinds)
    frame = ds.frame.iloc[te]
    with pytest.raises(ModelError, match=r"ONNX parity check failed: max \|score difference\|"):
        check_parity(graph, frame, model.scores(frame) + 1e-3, ds.inputs, ds.kinds)
