"""The ``multiclass`` kind: class ``probabilities`` [N, C] and the most probable class as ``label``.

The class names are recorded in ``bundle.json`` (``classes``, in the order of the probability columns);
labels are class names. Primary metric macro-F1 (every class counts the same, whatever its share); the
family adds accuracy, log-loss and the multi-class Brier score. Output drift: chi-square on the logged
predicted label. An unlabelled row stays unlabelled after maturity (no default class).

>>> y = np.array([0, 1, 2, 2]); p = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .2, .7], [.5, .1, .4]])
>>> m = KIND.point_metrics(y, p)
>>> round(m["accuracy"], 2), round(m["macro_f1"], 3)
(0.75, 0.778)
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

__all__ = ["KIND", "MulticlassHead", "MulticlassKind", "classes_of"]

EPS = 1e-15


def classes_of(meta: Mapping[str, Any]) -> list[str]:
    """The bundle's class names; :class:`DataError` when ``bundle.json`` lacks them."""
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) < 2:
        raise DataError(f"a multiclass bundle needs 'classes' (>= 2 class names), got {classes!r}")
    return [str(c) for c in classes]


class MulticlassHead(OutputHead):
    """Probabilities per class and the arg-max class name."""

    names = ("probabilities", "label")
    log_types: ClassVar[dict[str, str]] = {
        "predicted_label": "string",
        "probability": "float64",
        "probabilities": "list<float64>",
    }
    log_sources: ClassVar[dict[str, str]] = {"predicted_label": "label"}

    def __init__(self, classes: list[str]) -> None:
        self.classes = classes
        self._names = np.asarray(classes, dtype=object)

    def labels(self, out: np.ndarray) -> list[str]:
        """The most probable class of each row (first one on ties, as ``numpy.argmax``)."""
        return self._names[np.argmax(out, axis=1)].tolist()  # type: ignore[no-any-return]

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: np.ndarray) -> bytes:
        """Per instance ``label`` and ``probabilities`` (class → probability)."""
        labels = self.labels(out)
        preds = [
            {
                "request_id": rid,
                "label": lab,
                "probabilities": dict(zip(self.classes, row, strict=True)),
                "model_version": version,
            }
            for rid, lab, row in zip(request_ids, labels, out.tolist(), strict=True)
        ]
        return orjson.dumps(
            {"model": model, "model_version": version, "classes": self.classes, "predictions": preds}
        )

    def encode_v2(self, model: str, version: int, rid: str, out: np.ndarray, outputs: list[str]) -> bytes:
        """``probabilities`` FP32 [N, C] (row-major data) and ``label`` BYTES [N]."""
        n, c = out.shape
        tensors = []
        for name in outputs:
            if name == "probabilities":
                data = np.asarray(out, dtype=np.float32).reshape(-1).tolist()
                tensors.append({"name": name, "shape": [n, c], "datatype": "FP32", "data": data})
            else:
                tensors.append({"name": "label", "shape": [n], "datatype": "BYTES", "data": self.labels(out)})
        return v2_response(model, version, rid, tensors, {"classes": self.classes})

    def score(self, out: np.ndarray) -> np.ndarray:
        """The probability of the predicted label."""
        return np.asarray(out, dtype=np.float64).max(axis=1)

    def columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """``label`` (string), ``probability`` of that label, and ``probabilities`` [N, C]."""
        p = np.asarray(out, dtype=np.float64)
        return {
            "label": np.asarray(self.labels(out), dtype=object),
            "probability": p.max(axis=1),
            "probabilities": p,
        }

    def metadata(self) -> dict[str, Any]:
        """The class names, in probability-column order."""
        return {"classes": self.classes}


def _onehot(idx: np.ndarray, c: int) -> np.ndarray:
    m = np.zeros((idx.size, c))
    ok = (idx >= 0) & (idx < c)
    m[np.flatnonzero(ok), idx[ok]] = 1.0
    return m


@register
class MulticlassKind(ModelKind):
    """One of C classes (a product category, a return reason, a payment method)."""

    name = "multiclass"
    description = "multi-class classification: class probabilities and the most probable label"
    served_output = "probabilities"
    outputs = (
        OutputSpec("probabilities", "FP32", (-1, -1), "P(class) per class, in bundle 'classes' order"),
        OutputSpec("label", "BYTES", (-1,), "the most probable class name"),
    )
    metrics = ("macro_f1", "accuracy", "log_loss", "brier")
    primary_metric = "macro_f1"
    lower_is_better = frozenset({"log_loss", "brier"})
    output_drift = (OutputDrift("predicted_label", "chi2"),)
    label = LabelSpec("string", "the class name", missing_after_maturity=None)

    def head(self, meta: Mapping[str, Any]) -> MulticlassHead:
        """Head over the bundle's ``classes``."""
        return MulticlassHead(classes_of(meta))

    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """Macro-F1 (mean over classes with a true or predicted row; F1 0 where undefined), accuracy,
        log-loss (probabilities clipped at 1e-15) and Brier, per row of weights."""
        yy = np.asarray(y, dtype=np.int64)
        p = np.asarray(pred, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != yy.size:
            raise DataError(
                f"multiclass metrics need probabilities [n, C] for {yy.size} labels, got {p.shape}"
            )
        c = p.shape[1]
        truth = _onehot(yy, c)
        guess = _onehot(np.argmax(p, axis=1), c)
        hit = truth * guess
        p_true = np.clip(
            np.where((yy >= 0) & (yy < c), p[np.arange(yy.size), np.clip(yy, 0, c - 1)], 0.0), EPS, 1
        )
        nll = -np.log(p_true)
        sq = ((p - truth) ** 2).sum(axis=1)

        def family(w: np.ndarray) -> Mapping[str, np.ndarray]:
            W = np.atleast_2d(np.asarray(w, dtype=np.float64))
            tot = W.sum(axis=1)
            tp, actual, predicted = W @ hit, W @ truth, W @ guess
            denom = actual + predicted
            with np.errstate(divide="ignore", invalid="ignore"):
                f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
                present = (denom > 0).sum(axis=1)
                macro = np.where(present > 0, f1.sum(axis=1) / present, np.nan)
                return {
                    "macro_f1": macro,
                    "accuracy": tp.sum(axis=1) / tot,
                    "log_loss": (W @ nll) / tot,
                    "brier": (W @ sq) / tot,
                }

        return family

    def row_errors(
        self, y: np.ndarray, pred: np.ndarray, meta: Mapping[str, Any], **context: Any
    ) -> np.ndarray:
        """1 where the most probable class is not the label."""
        wrong = np.argmax(np.asarray(pred), axis=1) != np.asarray(y, dtype=np.int64)
        return wrong.astype(np.float64)

    def target_meta(self, values: Sequence[Any] | np.ndarray, field: str = "target") -> dict[str, Any]:
        """The sorted class names seen in the target (at least two)."""
        arr = np.asarray(values, dtype=object)
        bad = [i for i, v in enumerate(arr.tolist()) if v is None or (isinstance(v, float) and np.isnan(v))]
        if bad:
            raise DataError(
                f"{field} has {len(bad)} missing values (first at row {bad[0]}); every row needs a class"
            )
        classes = sorted({str(v) for v in arr.tolist()})
        if len(classes) < 2:
            raise DataError(f"{field} holds a single class {classes}; a multiclass model needs at least two")
        return {"classes": classes}

    def check_labels(
        self, values: Sequence[Any] | np.ndarray, meta: Mapping[str, Any], field: str = "label"
    ) -> np.ndarray:
        """Class names → class indices (in ``meta["classes"]`` order); an unknown class is an error."""
        index = {c: i for i, c in enumerate(classes_of(meta))}
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(np.asarray(values, dtype=object).tolist()):
            if isinstance(v, bool) or not isinstance(v, str | int | np.integer) or str(v) not in index:
                raise DataError(f"{field} must be one of the classes {sorted(index)}, got {v!r} (row {i})")
            out[i] = index[str(v)]
        return out

    def chance(self, y_train: np.ndarray, n: int) -> np.ndarray:
        """The training class shares for every row (an arg-max that always names the commonest class)."""
        c = int(np.max(y_train)) + 1
        prior = np.bincount(np.asarray(y_train, dtype=np.int64), minlength=c) / max(1, len(y_train))
        return np.tile(prior, (n, 1))

    def make_estimator(self, params: Mapping[str, Any], seed: int, n_outputs: int) -> Any:
        """XGBoost ``multi:softprob`` watched by multi-class log-loss."""
        from xgboost import XGBClassifier

        return XGBClassifier(
            **params,
            tree_method="hist",
            objective="multi:softprob",
            num_class=n_outputs,
            eval_metric="mlogloss",
            random_state=seed,
            verbosity=0,
        )

    def predict(self, estimator: Any, X: Any) -> np.ndarray:
        """Class probabilities [n, C], float32 (as XGBoost and the ONNX graph compute them)."""
        return np.asarray(estimator.predict_proba(X), dtype=np.float32)

    def finish_onnx(self, model: Any, meta: Mapping[str, Any]) -> None:
        """Outputs ``probabilities`` [N, C] and ``label`` (class name of the arg-max) only."""
        from shopml.kinds.onnx_outputs import finish_multiclass

        finish_multiclass(model, classes_of(meta))


KIND = KINDS[MulticlassKind.name]
