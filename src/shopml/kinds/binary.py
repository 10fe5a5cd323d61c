"""The ``binary`` kind: a calibrated P(positive) ``score`` and a thresholded ``decision``.

Primary metric PR-AUC (average precision; the positive class is rare). The output-drift check is KS on
the logged score. A transaction without a label once its maturity has passed is a negative (no
chargeback came). Training calibrates the score and chooses the threshold on validation
(``thresholded``); the metrics are those of :mod:`shopml.train.metrics`, the gate's comparison the
paired PR-AUC difference.

>>> head = KIND.head({"threshold": 0.5})
>>> head.encode_v1("fraud", 3, ["r1"], np.array([0.75], dtype=np.float32))
b'{"model":"fraud","model_version":3,"threshold":0.5,"predictions":[{"request_id":"r1","score":0.75,"decision":1,"model_version":3}]}'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from shopml.errors import DataError, InsufficientDataError
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
from shopml.stats.rare import METRICS

__all__ = ["KIND", "BinaryHead", "BinaryKind", "encode_v1", "encode_v2"]


def encode_v1(
    model: str, version: int, threshold: float, request_ids: list[str], scores: np.ndarray
) -> bytes:
    """The ``/v1`` answer: per instance score, decision, model version and request id."""
    if len(request_ids) == 1:  # the common single-row request, without the comprehension
        s = float(scores[0])
        pred = {
            "request_id": request_ids[0],
            "score": s,
            "decision": int(s >= threshold),
            "model_version": version,
        }
        return orjson.dumps(
            {"model": model, "model_version": version, "threshold": threshold, "predictions": [pred]}
        )
    preds = [
        {"request_id": rid, "score": s, "decision": int(s >= threshold), "model_version": version}
        for rid, s in zip(request_ids, scores.tolist(), strict=True)
    ]
    return orjson.dumps(
        {"model": model, "model_version": version, "threshold": threshold, "predictions": preds}
    )


def encode_v2(
    model: str, version: int, threshold: float, rid: str, scores: np.ndarray, outputs: list[str]
) -> bytes:
    """An OIP v2 inference response with ``score`` (FP32) and ``decision`` (INT8) outputs."""
    n = int(scores.shape[0])
    out = []
    for name in outputs:
        if name == "score":
            out.append({"name": "score", "shape": [n], "datatype": "FP32", "data": scores.tolist()})
        else:
            data = (scores >= threshold).astype(np.int8).tolist()
            out.append({"name": "decision", "shape": [n], "datatype": "INT8", "data": data})
    return v2_response(model, version, rid, out, {"threshold": threshold})


class BinaryHead(OutputHead):
    """Score and decision at the bundle's threshold."""

    names = ("score", "decision")

    def __init__(self, threshold: float) -> None:
        self.threshold = float(threshold)

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: np.ndarray) -> bytes:
        """See :func:`encode_v1`."""
        return encode_v1(model, version, self.threshold, request_ids, out)

    def encode_v2(self, model: str, version: int, rid: str, out: np.ndarray, outputs: list[str]) -> bytes:
        """See :func:`encode_v2`."""
        return encode_v2(model, version, self.threshold, rid, out, outputs)

    def score(self, out: np.ndarray) -> np.ndarray:
        """The score itself."""
        return out

    def columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """``score`` (float64) and ``decision`` (int8)."""
        s = np.asarray(out, dtype=np.float64).reshape(-1)
        return {"score": s, "decision": (s >= self.threshold).astype(np.int8)}

    def metadata(self) -> dict[str, Any]:
        """The decision threshold."""
        return {"threshold": self.threshold}


@register
class BinaryKind(ModelKind):
    """Rare-event binary classification (fraud, high-value returns)."""

    name = "binary"
    description = "binary classification: calibrated score and thresholded decision"
    served_output = "score"
    outputs = (
        OutputSpec("score", "FP32", (-1,), "calibrated P(positive)"),
        OutputSpec("decision", "INT8", (-1,), "1 where score >= threshold"),
    )
    metrics = METRICS  # the rare-class family of shopml.stats.rare
    primary_metric = "pr_auc"
    lower_is_better = frozenset({"brier", "expected_cost"})
    output_drift = (OutputDrift("score", "ks"),)
    label = LabelSpec("int8", "0/1; 1 = positive (fraud, return)", missing_after_maturity=0.0)
    thresholded = True
    rare_class = True
    estimates_performance = True

    def head(self, meta: Mapping[str, Any]) -> BinaryHead:
        """Head at ``meta["threshold"]``."""
        return BinaryHead(float(meta.get("threshold", 0.5)))

    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """The rare-class family of :mod:`shopml.stats.rare` (context: ``threshold``, ``costs`` — a
        :class:`shopml.stats.Costs` — ``fn_costs`` per row, ``min_precision``) for each row of weights."""
        from shopml.stats import Costs
        from shopml.stats.rare import sort_scored, weighted_family

        threshold = float(context.get("threshold", 0.5))
        costs = context.get("costs") or Costs()
        yy, s, c, ends, decided = sort_scored(y, pred, threshold, costs, context.get("fn_costs"))
        order = np.argsort(-np.asarray(pred, dtype=np.float64), kind="stable")  # as in sort_scored
        fp_cost = float(costs.false_positive)
        min_precision = float(context.get("min_precision", 0.9))

        def family(w: np.ndarray) -> Mapping[str, np.ndarray]:
            W = np.atleast_2d(np.asarray(w, dtype=np.float64))[:, order]
            return weighted_family(W, yy, s, c, ends, decided, fp_cost, min_precision)

        return family

    def weighted_primary(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> Any:
        """PR-AUC per row of weights (the gate's vectorised average precision)."""
        from shopml.stats.rare import weighted_average_precision

        yy = np.asarray(y)
        s = np.asarray(pred, dtype=np.float64)
        return lambda w: weighted_average_precision(yy, s, np.atleast_2d(np.asarray(w, dtype=np.float64)))

    def row_errors(
        self, y: np.ndarray, pred: np.ndarray, meta: Mapping[str, Any], **context: Any
    ) -> np.ndarray:
        """1 where the decision misses the label: the logged ``decision`` (context) when given, else
        ``score >= threshold``."""
        decision = context.get("decision")
        if decision is None:
            decision = np.asarray(pred, dtype=np.float64) >= float(meta.get("threshold", 0.5))
        return (np.asarray(decision, dtype=np.float64) != np.asarray(y, dtype=np.float64)).astype(np.float64)

    def check_labels(
        self, values: Sequence[Any] | np.ndarray, meta: Mapping[str, Any], field: str = "label"
    ) -> np.ndarray:
        """0/1 (or booleans) as int8."""
        arr = np.asarray(values, dtype=object)
        out = np.empty(arr.size, dtype=np.int8)
        for i, v in enumerate(arr.tolist()):
            if v is True or v is False or (type(v) in (int, float, np.int8, np.int64) and v in (0, 1)):
                out[i] = int(v)
            else:
                raise DataError(f"{field} must be 0 or 1, got {v!r} (row {i})")
        return out

    def target(self, column: Any, field: str = "target") -> tuple[np.ndarray, dict[str, Any]]:
        """0/1 (integer or boolean, no nulls, both classes present) as int8."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if column.null_count:
            raise DataError(f"{field} has {column.null_count} null values; expected 0/1 in every row")
        if not (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
            raise DataError(f"{field} must be 0/1 (integer or boolean), got column type {column.type}")
        y = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
        bad = np.setdiff1d(np.unique(y), [0, 1])
        if bad.size:
            raise DataError(f"{field} must be binary 0/1, got values {bad[:5].tolist()}")
        classes = np.unique(y)
        if classes.size < 2:
            raise InsufficientDataError(
                f"{field} has a single class ({int(classes[0])}) in all {len(y)} rows;"
                " a classifier needs both 0 and 1"
            )
        return y.astype(np.int8), {}

    def split_positives(self, y: np.ndarray) -> np.ndarray:
        """The labels themselves: every period needs positives and negatives."""
        return y

    def chance(self, y_train: np.ndarray, n: int) -> np.ndarray:
        """The training positive rate for every row."""
        return np.full(n, float(np.mean(y_train)))

    def make_estimator(self, params: Mapping[str, Any], seed: int, n_outputs: int) -> Any:
        """XGBoost ``binary:logistic`` scored by PR-AUC."""
        from xgboost import XGBClassifier

        return XGBClassifier(
            **params,
            tree_method="hist",
            objective="binary:logistic",
            eval_metric="aucpr",
            random_state=seed,
            verbosity=0,
        )

    def predict(self, estimator: Any, X: Any) -> np.ndarray:
        """P(positive), float64."""
        return np.asarray(estimator.predict_proba(X)[:, 1], dtype=np.float64)


KIND = KINDS[BinaryKind.name]
