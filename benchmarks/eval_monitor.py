"""Evaluation: does ``run_monitor`` keep quiet on a stationary world and catch a concept drift?

Simulates 90 days (scenario ``none`` and ``gradual_concept``, onset day 45), trains the first champion on
what was known at day 42, scores the later traffic with the bundle's ONNX graph, writes the prediction
log directly (contract 5), ingests every label with its arrival time and runs the monitor at days 63, 75
and 90. The baseline in the same run is the naive rule "alert when a single day's realised PR-AUC is
below the reference minus the drop", without pooling rare positives.

    .venv/bin/python -m benchmarks.eval_monitor            # ~8,000 customers, both scenarios
    .venv/bin/python -m benchmarks.eval_monitor --customers 24000   # three times the fraud volume
    .venv/bin/python -m benchmarks.eval_monitor --quick    # 3,000 customers, scenario none only
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sklearn.metrics import average_precision_score

from shopml import train as train_api
from shopml.config import Workspace
from shopml.monitor import ingest_labels, run_monitor, write_predictions
from shopml.registry import ModelBundle, Registry
from shopml.simulate import simulate

FAST = {
    "seed": 42,
    "search": {"n_trials": 1},
    "bootstrap": 200,
    "learning_curve_sizes": [0.5, 1.0],
    "parity_rows": 500,
    "model": {"n_estimators": 200},
    "name": "fraud",
    "label_available_column": None,
}


def _score(bundle: ModelBundle, table: pa.Table) -> np.ndarray:
    sess = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    feeds = {}
    for name, kind in bundle.input_kinds().items():
        col = table.column(name)
        if kind.value == "categorical":
            feeds[name] = np.array(col.cast(pa.string()).fill_null("").to_pylist(), dtype=object).reshape(
                -1, 1
            )
        else:
            feeds[name] = (
                col.cast(pa.float32()).fill_null(np.nan).to_numpy(zero_copy_only=False).reshape(-1, 1)
            )
    return np.asarray(sess.run(["score"], feeds)[0], dtype=np.float64).reshape(-1)


def _log(bundle: ModelBundle, prod: pa.Table, score: np.ndarray) -> pa.Table:
    n = prod.num_rows
    cols: dict[str, object] = {
        "request_id": pa.array(np.char.add("r", np.arange(n).astype(str))),
        "ts": prod.column("event_time"),
        "model": pa.array(np.full(n, "fraud")),
        "model_version": pa.array(np.full(n, bundle.version or 1, np.int64)),
        "score": score,
        "decision": pa.array((score >= bundle.threshold).astype(np.int8)),
        "threshold": np.full(n, bundle.threshold),
        "latency_ms": np.ones(n),
    }
    types = {"numeric": pa.float64(), "categorical": pa.string(), "boolean": pa.bool_()}
    for name, kind in bundle.input_kinds().items():
        cols[name] = prod.column(name).cast(types[kind.value])
    cols["transaction_id"], cols["event_time"] = prod.column("transaction_id"), prod.column("event_time")
    return pa.table(cols)


def _naive_alarms(
    prod: pa.Table, score: np.ndarray, y: np.ndarray, day0: object, upto: int, limit: float
) -> int:
    """Days (matured by ``upto``: 14-day dispute period) whose own realised PR-AUC is below ``limit``."""
    days = pc.floor_temporal(prod.column("event_time"), unit="day").to_numpy()
    alarms = 0
    for day in np.unique(days):
        k = days == day
        age = (
            (np.datetime64(day0, "us") + np.timedelta64(upto, "D") - day).astype("timedelta64[D]").astype(int)
        )
        if age > 15 and 0 < y[k].sum() < k.sum() and average_precision_score(y[k], score[k]) < limit:
            alarms += 1
    return alarms


def evaluate(scenario: str, customers: int, root: Path) -> None:
    """Simulate, train, log, label and monitor one scenario; print what fired when."""
    ws, world = Workspace(root / "ws").ensure(), root / "world"
    simulate(world, days=90, seed=3, scenario=scenario, customers=customers)
    tx = ds.dataset(world / "transactions", format="parquet", partitioning="hive").to_table()
    day0 = pc.min(tx.column("event_time")).as_py().replace(hour=0, minute=0, second=0, microsecond=0)
    cut = pa.scalar(day0 + timedelta(days=42), pa.timestamp("us", "UTC"))
    known = tx.filter(
        pc.and_(
            pc.less_equal(tx.column("event_time"), cut), pc.less_equal(tx.column("label_available_at"), cut)
        )
    )
    train_api.train(
        train_api.preset("fraud", world, **FAST),
        table=known.drop_columns(["label_available_at"]),
        workspace=ws,
    )
    bundle = Registry(ws).load_bundle("fraud")
    prod = tx.filter(pc.greater(tx.column("event_time"), cut))
    score = _score(bundle, prod)
    write_predictions(ws, "fraud", _log(bundle, prod, score))
    labels = ds.dataset(world / "labels" / "fraud", format="parquet", partitioning="hive").to_table(
        columns=["transaction_id", "is_fraud", "label_available_at"]
    )
    ingest_labels(ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    ref = float(bundle.meta.metrics["pr_auc"])
    y = prod.column("is_fraud").to_numpy().astype(float)
    print(f"[{scenario}] reference PR-AUC {ref:.3f}, {prod.num_rows:,} logged predictions after day 42")
    for day in (63, 75, 90):
        result = run_monitor(ws, "fraud", "1d", day0 + timedelta(days=day), bundle=bundle, history=day - 42)
        fired = "; ".join(f"{e.severity} {e.kind}/{e.evidence.get('source', 'drift')}" for e in result.events)
        naive = _naive_alarms(prod, score, y, day0.replace(tzinfo=None), day, ref - 0.05)
        print(
            f"  day {day}: {result.status:<17} {fired or '-'} | naive single-day rule: {naive} alarm day(s)"
        )


def main() -> None:
    """Run the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller world, scenario none only")
    parser.add_argument("--customers", type=int, default=None, help="world size [8,000; quick 3,000]")
    args = parser.parse_args()
    scenarios = ["none"] if args.quick else ["none", "gradual_concept"]
    customers = args.customers or (3_000 if args.quick else 8_000)
    for scenario in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            evaluate(scenario, customers, Path(tmp))


if __name__ == "__main__":
    main()
