"""A synthetic fraud-like model bundle for the serve tests and benchmark.

Trains a small ``Pipeline(ColumnTransformer(OneHotEncoder, passthrough), XGBClassifier)`` on
transactions-like rows and exports it exactly as the bundle contract says (one ONNX input per feature,
shape [N, 1], float32 numeric/boolean, string categorical; output ``score`` = P(fraud)), so that the
server can be tested and measured before (and independently of) the training package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.registry.bundle import BundleMeta, ModelBundle
from shopml.schema import FeatureSpec, Schema

__all__ = ["CATEGORIES", "FixtureModel", "make_bundle", "make_rows", "schema"]

CATEGORIES: dict[str, tuple[str, ...]] = {
    "currency": ("EUR", "USD", "GBP"),
    "country": ("DE", "FR", "US", "GB", "NL"),
    "ip_country": ("DE", "FR", "US", "GB", "NL", "RU"),
    "merchant_category": ("fashion", "electronics", "grocery", "gift_cards", "travel"),
    "payment_method": ("card", "paypal", "klarna"),
    "device_type": ("desktop", "mobile", "tablet"),
}
NUMERIC = ("amount", "account_age_days", "hour", "txn_count_24h", "amount_avg_30d", "seconds_since_last_txn")
NULLABLE = ("amount_avg_30d", "seconds_since_last_txn")
BOOLEAN = ("is_new_device",)
INPUTS: tuple[str, ...] = (*NUMERIC, *CATEGORIES, *BOOLEAN)


def schema() -> Schema:
    """The transactions schema: id, time, inputs and target."""
    feats = [FeatureSpec(name="transaction_id", kind="id"), FeatureSpec(name="event_time", kind="timestamp")]
    for n in NUMERIC:
        feats.append(FeatureSpec(name=n, kind="numeric", min=0.0, nullable=n in NULLABLE))
    for n, cats in CATEGORIES.items():
        feats.append(FeatureSpec(name=n, kind="categorical", categories=cats))
    feats += [FeatureSpec(name=n, kind="boolean") for n in BOOLEAN]
    feats.append(FeatureSpec(name="is_fraud", kind="target"))
    return Schema(features=tuple(feats))


def make_rows(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``n`` JSON-ready instances (with id and time) and their fraud labels. The event time is now (to
    the second): the server refuses client times far from its clock (``serve.event_time_window_s``)."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    cols: dict[str, Any] = {
        "amount": rng.lognormal(3.5, 1.0, n).round(2),
        "account_age_days": rng.exponential(400, n).round(1),
        "hour": rng.integers(0, 24, n).astype(float),
        "txn_count_24h": rng.poisson(1.5, n).astype(float),
        "amount_avg_30d": rng.lognormal(3.5, 0.7, n).round(2),
        "seconds_since_last_txn": rng.exponential(86400, n).round(0),
        "is_new_device": rng.random(n) < 0.15,
    }
    for c, cats in CATEGORIES.items():
        cols[c] = rng.choice(np.array(cats), n)
    logit = (
        -5.0
        + 1.2 * np.log1p(cols["amount"]) / 4
        + 1.5 * cols["is_new_device"]
        + 0.6 * cols["txn_count_24h"] / 2
        + 1.5 * (cols["ip_country"] != cols["country"])
        + 1.0 * (cols["merchant_category"] == "gift_cards")
        - 0.002 * cols["account_age_days"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"transaction_id": f"t{seed}-{i}", "event_time": now}
        for c in INPUTS:
            v = cols[c][i]
            row[c] = bool(v) if c in BOOLEAN else (str(v) if c in CATEGORIES else float(v))
        if i % 17 == 0:
            row["amount_avg_30d"] = None
        rows.append(row)
    return rows, y


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    df = pd.DataFrame({c: [r.get(c) for r in rows] for c in INPUTS})
    for c in (*NUMERIC, *BOOLEAN):
        df[c] = df[c].astype("float32")
    return df


@dataclass
class FixtureModel:
    """The fitted pipeline (reference scores) and the bundle folder written from it."""

    pipeline: Any
    bundle: ModelBundle

    def reference_scores(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """P(fraud) from the Python pipeline, the ground truth the server must match."""
        return np.asarray(self.pipeline.predict_proba(_frame(rows))[:, 1], dtype=np.float64)

    @staticmethod
    def frame(rows: list[dict[str, Any]]) -> Any:
        """The pandas frame the pipeline takes for ``rows``."""
        return _frame(rows)


def make_bundle(
    out: Path, *, name: str = "fraud", n_trees: int = 30, depth: int = 4, seed: int = 0, n_rows: int = 3000
) -> FixtureModel:
    """Train the pipeline and write ``bundle.json`` + ``model.onnx`` into ``out``."""
    import onnx
    from onnx import TensorProto, helper
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import convert_sklearn, update_registered_converter
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier

    update_registered_converter(
        XGBClassifier,
        "XGBoostXGBClassifier",
        calculate_linear_classifier_output_shapes,
        convert_xgboost,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    rows, y = make_rows(n_rows, seed)
    cats = list(CATEGORIES)
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), cats), ("num", "passthrough", [*NUMERIC, *BOOLEAN])]
    )
    clf = XGBClassifier(n_estimators=n_trees, max_depth=depth, n_jobs=1, random_state=seed)
    pipe = Pipeline([("pre", pre), ("clf", clf)]).fit(_frame(rows), y)
    types = [
        (c, StringTensorType([None, 1]) if c in CATEGORIES else FloatTensorType([None, 1])) for c in INPUTS
    ]
    model = convert_sklearn(
        pipe,
        initial_types=types,
        options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    graph = model.graph
    probs = next(o.name for o in graph.output if "prob" in o.name)
    graph.initializer.append(helper.make_tensor("score_index", TensorProto.INT64, [], [1]))
    graph.node.append(helper.make_node("Gather", [probs, "score_index"], ["score"], axis=1))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("score", TensorProto.FLOAT, [None]))
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out / "model.onnx"))
    meta = BundleMeta.model_validate(
        {
            "name": name,
            "task": "fraud",
            "schema": schema().to_dict(),
            "inputs": list(INPUTS),
            "threshold": 0.5,
            "id_column": "transaction_id",
            "time_column": "event_time",
            "target": "is_fraud",
            "metrics": {"n_trees": n_trees},
        }
    )
    bundle = ModelBundle(out, meta)
    bundle.save_meta()
    return FixtureModel(pipe, bundle)
