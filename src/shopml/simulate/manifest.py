"""``manifest.json``: seed, parameters, row counts, partitions and the schema of every table.

Each table's schema is given twice: the Arrow column types, and the shopml feature schema (kinds: id,
timestamp, numeric, categorical, boolean, target, text) that training can load with ``Schema.from_dict``.
Ground-truth columns (``fraud_pattern``) and label times are not model inputs (kinds text/timestamp).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from shopml.schema import FeatureKind, FeatureSpec, Schema
from shopml.simulate.orders import ORDER_SCHEMA
from shopml.simulate.params import SimulationParams
from shopml.simulate.transactions import TRANSACTION_SCHEMA

__all__ = ["TABLES", "feature_schema", "manifest"]

_LABEL_FRAUD = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("is_fraud", pa.int8()),
        ("label_available_at", pa.timestamp("us", tz="UTC")),
    ]
)
_LABEL_RETURNS = pa.schema(
    [
        ("order_id", pa.string()),
        ("is_high_value_return", pa.int8()),
        ("label_available_at", pa.timestamp("us", tz="UTC")),
    ]
)
#: table -> (Arrow schema, id column, time column, target column)
TABLES: dict[str, tuple[pa.Schema, str, str, str]] = {
    "transactions": (TRANSACTION_SCHEMA, "transaction_id", "event_time", "is_fraud"),
    "orders": (ORDER_SCHEMA, "order_id", "event_time", "is_high_value_return"),
    "labels/fraud": (_LABEL_FRAUD, "transaction_id", "label_available_at", "is_fraud"),
    "labels/returns": (_LABEL_RETURNS, "order_id", "label_available_at", "is_high_value_return"),
}
_NULLABLE = {
    "amount_avg_30d",
    "seconds_since_last_txn",
    "size_fit_score",
    "customer_return_rate",
    "account_age_days",
}
_NON_NEGATIVE = {"amount", "price", "account_age_days", "txn_count_24h", "seconds_since_last_txn", "quantity"}
_NOT_INPUTS = {"fraud_pattern": FeatureKind.TEXT, "customer_id": FeatureKind.ID}


def feature_schema(table: str) -> Schema:
    """The shopml schema of one simulated table.

    >>> feature_schema("transactions").target
    'is_fraud'
    """
    arrow, id_col, _, target = TABLES[table]
    specs = []
    for f in arrow:
        t = f.type
        if f.name in _NOT_INPUTS:
            kind = _NOT_INPUTS[f.name]
        elif f.name == id_col:
            kind = FeatureKind.ID
        elif f.name == target:
            kind = FeatureKind.TARGET
        elif pa.types.is_timestamp(t):
            kind = FeatureKind.TIMESTAMP
        elif pa.types.is_boolean(t):
            kind = FeatureKind.BOOLEAN
        elif pa.types.is_string(t):
            kind = FeatureKind.CATEGORICAL
        else:
            kind = FeatureKind.NUMERIC
        lo = 0.0 if f.name in _NON_NEGATIVE else None
        specs.append(FeatureSpec(name=f.name, kind=kind, nullable=f.name in _NULLABLE, min=lo))
    return Schema(features=tuple(specs))


def manifest(
    p: SimulationParams, rows: dict[str, int], partitions: dict[str, list[str]], version: str
) -> dict[str, Any]:
    """The manifest mapping (deterministic: no wall-clock time in it)."""
    tables = {}
    for name, (arrow, id_col, time_col, target) in TABLES.items():
        tables[name] = {
            "path": name,
            "rows": rows[name],
            "partitions": partitions[name],
            "partitioning": "hive: date=YYYY-MM-DD"
            + (" (day the label arrives)" if "labels" in name else ""),
            "id_column": id_col,
            "time_column": time_col,
            "target": target,
            "columns": {f.name: str(f.type) for f in arrow},
            "schema": feature_schema(name).to_dict(),
        }
    return {"shopml_version": version, "seed": p.seed, "params": p.model_dump(mode="json"), "tables": tables}
