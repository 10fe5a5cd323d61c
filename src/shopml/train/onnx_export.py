"""ONNX export of the serving path (preprocessing → XGBoost → calibration) and the parity check.

skl2onnx converts the fitted preprocessing + model (onnxmltools' XGBoost converter registered, zipmap
off); the calibrator is appended as plain ONNX nodes computed in float64, so the graph's only output
``score`` is the calibrated P(positive), shape [N]. Inputs: one [N, 1] tensor per feature, named like the
feature, float32 for numbers and booleans, string for categories.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from sklearn.pipeline import Pipeline

from shopml.errors import ModelError
from shopml.schema import FeatureKind
from shopml.train.calibration import EPS, ScoreCalibrator
from shopml.train.data import onnx_feeds

__all__ = ["check_parity", "convert_pipeline", "export_onnx", "onnx_scores"]

OPSET = {"": 17, "ai.onnx.ml": 3}
_registered = False


def _register_xgboost() -> None:
    global _registered
    if _registered:
        return
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    update_registered_converter(
        XGBClassifier,
        "XGBoostXGBClassifier",
        calculate_linear_classifier_output_shapes,
        convert_xgboost,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes, convert_xgboost
    )
    _registered = True


def _const(graph: onnx.GraphProto, name: str, value: np.ndarray) -> str:
    graph.initializer.append(numpy_helper.from_array(np.asarray(value), name=name))
    return name


def _append_calibration(model: onnx.ModelProto, calibrator: ScoreCalibrator, proba: str) -> None:
    g = model.graph
    nodes = [
        helper.make_node(
            "Slice",
            [
                proba,
                _const(g, "cal_start", np.array([1])),
                _const(g, "cal_end", np.array([2])),
                _const(g, "cal_axis", np.array([1])),
            ],
            ["cal_p32"],
        ),
        helper.make_node("Cast", ["cal_p32"], ["cal_p"], to=TensorProto.DOUBLE),
    ]
    if calibrator.method_ == "sigmoid":
        nodes += [
            helper.make_node("Max", ["cal_p", _const(g, "cal_lo", np.array(EPS))], ["cal_q0"]),
            helper.make_node("Min", ["cal_q0", _const(g, "cal_hi", np.array(1 - EPS))], ["cal_q"]),
            helper.make_node("Sub", [_const(g, "cal_one", np.array(1.0)), "cal_q"], ["cal_1mq"]),
            helper.make_node("Log", ["cal_q"], ["cal_logq"]),
            helper.make_node("Log", ["cal_1mq"], ["cal_log1mq"]),
            helper.make_node("Sub", ["cal_logq", "cal_log1mq"], ["cal_logit"]),
            helper.make_node(
                "Mul", ["cal_logit", _const(g, "cal_a", np.array(calibrator.slope_))], ["cal_az"]
            ),
            helper.make_node(
                "Add", ["cal_az", _const(g, "cal_b", np.array(calibrator.intercept_))], ["cal_z"]
            ),
            helper.make_node("Sigmoid", ["cal_z"], ["cal_s2"]),
            helper.make_node("Reshape", ["cal_s2", _const(g, "cal_flat", np.array([-1]))], ["cal_s"]),
        ]
    else:  # isotonic: exact piecewise-linear interpolation as a sum of clipped ramps
        x, v = calibrator.x_thresholds_, calibrator.y_thresholds_
        slopes = np.diff(v) / np.diff(x)
        nodes += [
            helper.make_node("Max", ["cal_p", _const(g, "cal_xlo", x[:-1])], ["cal_m1"]),
            helper.make_node("Min", ["cal_m1", _const(g, "cal_xhi", x[1:])], ["cal_m2"]),
            helper.make_node("Sub", ["cal_m2", "cal_xlo"], ["cal_d"]),
            helper.make_node("MatMul", ["cal_d", _const(g, "cal_slopes", slopes)], ["cal_sum"]),
            helper.make_node("Add", ["cal_sum", _const(g, "cal_y0", np.array(v[0]))], ["cal_s"]),
        ]
    nodes.append(helper.make_node("Cast", ["cal_s"], ["score"], to=TensorProto.FLOAT))
    g.node.extend(nodes)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("score", TensorProto.FLOAT, [None]))


def _fix_base_margin(model: onnx.ModelProto, xgb: Any) -> None:
    """Work around an onnxmltools 1.16 bug: when the first tree is a single leaf of value 0 (it happens
    with strong sample weights), its XGBoost converter writes the base *probability* as the ensemble's
    base *margin*. Rewrite it as ``logit(base_score)``, as the converter does in every other case."""
    import json

    booster = xgb.get_booster()
    first = json.loads(booster.get_dump(dump_format="json")[0])
    if first.get("leaf", None) != 0:
        return
    raw = json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"]
    base = float(np.float32(str(raw).strip("[]")))
    margin = 0.0 if base == 0.5 else float(-np.log(1 / np.float32(base) - 1.0))
    for node in model.graph.node:
        if node.op_type.startswith("TreeEnsemble"):
            for attr in node.attribute:
                if attr.name == "base_values":
                    del attr.floats[:]
                    attr.floats.extend([margin])


def convert_pipeline(serving: Pipeline, inputs: list[str], kinds: dict[str, FeatureKind]) -> onnx.ModelProto:
    """The fitted serving pipeline as converted by skl2onnx (classifiers: no zipmap); inputs one [N, 1]
    tensor per feature. :class:`ModelError` when a converter refuses."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _register_xgboost()
    types = [
        (
            n,
            StringTensorType([None, 1])
            if kinds[n] == FeatureKind.CATEGORICAL
            else FloatTensorType([None, 1]),
        )
        for n in inputs
    ]
    final = serving.steps[-1][1]
    options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
    try:
        model: onnx.ModelProto = convert_sklearn(
            serving, initial_types=types, options=options, target_opset=OPSET
        )
    except Exception as exc:  # converters raise many types; all mean "cannot export"
        raise ModelError(f"ONNX export of the serving pipeline failed: {exc}") from exc
    model.producer_name = "shopml"
    return model


def export_onnx(
    serving: Pipeline, calibrator: ScoreCalibrator, inputs: list[str], kinds: dict[str, FeatureKind]
) -> onnx.ModelProto:
    """Convert the fitted serving pipeline plus calibrator into one ONNX graph with output ``score``."""
    model = convert_pipeline(serving, inputs, kinds)
    final = serving.steps[-1][1]
    if type(final).__name__ == "XGBClassifier":
        _fix_base_margin(model, final)
    proba = next(o.name for o in model.graph.output if "prob" in o.name)
    _append_calibration(model, calibrator, proba)
    onnx.checker.check_model(model)
    return model


def onnx_scores(
    model: onnx.ModelProto | bytes, frame: pd.DataFrame, inputs: list[str], kinds: dict[str, FeatureKind]
) -> np.ndarray:
    """Scores from ONNX Runtime (one thread) for a model-input frame."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    raw = model if isinstance(model, bytes) else model.SerializeToString()
    session = ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])
    out = session.run(["score"], onnx_feeds(frame, inputs, kinds))[0]
    return np.asarray(out, dtype=np.float64).reshape(-1)


def check_parity(
    model: onnx.ModelProto,
    frame: pd.DataFrame,
    expected: np.ndarray,
    inputs: list[str],
    kinds: dict[str, FeatureKind],
    tolerance: float = 1e-5,
) -> float:
    """Max |ONNX score − Python score| on ``frame``; raises :class:`ModelError` above ``tolerance``."""
    got = onnx_scores(model, frame, inputs, kinds)
    delta = np.abs(got - np.asarray(expected, dtype=np.float64))
    worst = float(np.max(delta)) if delta.size else 0.0
    if not np.isfinite(worst) or worst > tolerance:
        row = int(np.nanargmax(delta)) if delta.size else -1
        raise ModelError(
            f"ONNX parity check failed: max |score difference| {worst:.3g} > {tolerance:g} on {delta.size}"
            f" held-out rows (worst row {row}: ONNX {got[row]:.8f} vs Python {expected[row]:.8f}); "
            "the model was not registered"
        )
    return worst
