"""The ``regression`` kind: one number per row, ``value`` (order value, demand, amount).

Primary metric MAE (lower is better); the family adds WAPE (sum |error| / sum |truth|: the error as a
share of the volume, what a planner reads), RMSE and the bias (mean prediction − truth). Output drift:
KS on the logged value. An unlabelled row stays unlabelled after maturity.

>>> m = KIND.point_metrics(np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 30.0]))
>>> m["mae"], round(m["wape"], 4), round(m["bias"], 4)
(1.3333333333333333, 0.0667, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import orjson

from shopml.errors import DataError
from shopml.kinds.base import (
    KINDS,
    LabelSpec,
    ModelKind,
    OutputDrift,
    OutputHead,
    OutputSpec,
    WeightedMetrics,
    register,
    v2_response,
)

__all__ = ["ERROR_SCALE", "KIND", "RegressionHead", "RegressionKind"]

#: A row's stream error is ``|error| / (ERROR_SCALE x the test MAE)``, capped at 1: about 0.25 on
#: average while the model performs as tested, so a rise has room below the cap.
ERROR_SCALE = 4.0


class RegressionHead(OutputHead):
    """The predicted value."""

    names = ("value",)
    log_types: ClassVar[dict[str, str]] = {"value": "float64"}

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: np.ndarray) -> bytes:
        """Per instance ``value``."""
        preds = [
            {"request_id": rid, "value": v, "model_version": version}
            for rid, v in zip(request_ids, np.asarray(out).reshape(-1).tolist(), strict=True)
        ]
        return orjson.dumps({"model": model, "model_version": version, "predictions": preds})

    def encode_v2(self, model: str, version: int, rid: str, out: np.ndarray, outputs: list[str]) -> bytes:
        """``value`` FP32 [N]."""
        v = np.asarray(out, dtype=np.float32).reshape(-1)
        tensors = [
            {"name": "value", "shape": [int(v.size)], "datatype": "FP32", "data": v.tolist()} for _ in outputs
        ]
        return v2_response(model, version, rid, tensors)

    def score(self, out: np.ndarray) -> np.ndarray:
        """The value."""
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """``value`` (float64)."""
        return {"value": np.asarray(out, dtype=np.float64).reshape(-1)}


@register
class RegressionKind(ModelKind):
    """A real-valued target."""

    name = "regression"
    description = "regression: one predicted value per row"
    served_output = "value"
    outputs = (OutputSpec("value", "FP32", (-1,), "the predicted value"),)
    metrics = ("mae", "wape", "rmse", "bias")
    primary_metric = "mae"
    lower_is_better = frozenset({"mae", "wape", "rmse"})
    output_drift = (OutputDrift("value", "ks"),)
    label = LabelSpec("float64", "the realised value", missing_after_maturity=None)

    def head(self, meta: Mapping[str, Any]) -> RegressionHead:
        """The head (no parameters)."""
        return RegressionHead()

    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """MAE, WAPE, RMSE and bias per row of weights."""
        yy = np.asarray(y, dtype=np.float64).reshape(-1)
        err = np.asarray(pred, dtype=np.float64).reshape(-1) - yy
        if err.size != yy.size:
            raise DataError(f"regression metrics need one prediction per label ({yy.size}), got {err.size}")
        ab, sq, mag = np.abs(err), err**2, np.abs(yy)

        def family(w: np.ndarray) -> Mapping[str, np.ndarray]:
            W = np.atleast_2d(np.asarray(w, dtype=np.float64))
            tot = W.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return {
                    "mae": (W @ ab) / tot,
                    "wape": (W @ ab) / (W @ mag),
                    "rmse": np.sqrt((W @ sq) / tot),
                    "bias": (W @ err) / tot,
                }

        return family

    def row_errors(
        self, y: np.ndarray, pred: np.ndarray, meta: Mapping[str, Any], **context: Any
    ) -> np.ndarray:
        """``|pred - y| / (ERROR_SCALE x MAE)`` capped at 1, MAE from the bundle's test metrics (``mae``),
        else the mean absolute deviation of ``y`` (what a constant prediction would miss by)."""
        yy = np.asarray(y, dtype=np.float64).reshape(-1)
        err = np.abs(np.asarray(pred, dtype=np.float64).reshape(-1) - yy)
        metrics = meta.get("metrics") or {}
        mae = metrics.get("mae") if isinstance(metrics, Mapping) else None
        if not isinstance(mae, int | float) or not np.isfinite(mae) or mae <= 0:
            mae = float(np.mean(np.abs(yy - np.median(yy)))) if yy.size else 1.0
        scale = ERROR_SCALE * (float(mae) if mae > 0 else 1.0)
        return np.minimum(err / scale, 1.0)

    def check_labels(
        self, values: Sequence[Any] | np.ndarray, meta: Mapping[str, Any], field: str = "label"
    ) -> np.ndarray:
        """Finite numbers as float64."""
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(np.asarray(values, dtype=object).tolist()):
            if isinstance(v, bool) or not isinstance(v, int | float | np.number) or not np.isfinite(v):
                raise DataError(f"{field} must be a finite number, got {v!r} (row {i})")
            out[i] = float(v)
        return out

    def target(self, column: Any, field: str = "target") -> tuple[np.ndarray, dict[str, Any]]:
        """A numeric column without nulls or non-finite values, as float64."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise DataError(f"{field} must be numeric, got column type {column.type}")
        y = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        bad = ~np.isfinite(y)
        if bad.any():
            raise DataError(
                f"{field} has {int(bad.sum())} null or non-finite values (first at row "
                f"{int(np.flatnonzero(bad)[0])}); expected a number in every row"
            )
        return y, {}

    def chance(self, y_train: np.ndarray, n: int) -> np.ndarray:
        """The training median (the constant that minimises MAE)."""
        return np.full(n, float(np.median(y_train)))

    def make_estimator(self, params: Mapping[str, Any], seed: int, n_outputs: int) -> Any:
        """XGBoost ``reg:squarederror`` watched by MAE."""
        from xgboost import XGBRegressor

        return XGBRegressor(
            **params,
            tree_method="hist",
            objective="reg:squarederror",
            eval_metric="mae",
            random_state=seed,
            verbosity=0,
        )

    def predict(self, estimator: Any, X: Any) -> np.ndarray:
        """Predicted values [n], float32 (as XGBoost and the ONNX graph compute them)."""
        return np.asarray(estimator.predict(X), dtype=np.float32).reshape(-1)

    def finish_onnx(self, model: Any, meta: Mapping[str, Any]) -> None:
        """Output ``value`` [N] only."""
        from shopml.kinds.onnx_outputs import finish_regression

        finish_regression(model)


KIND = KINDS[RegressionKind.name]
