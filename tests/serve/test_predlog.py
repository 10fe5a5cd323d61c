"""The prediction-log writer: contract columns, partitions, drops counted, close drains."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from shopml.serve import LogRecord, PredictionLog, ServeMetrics


def _record(i: int, n: int = 2) -> LogRecord:
    return LogRecord(
        model="fraud",
        version=3,
        threshold=0.5,
        ts=datetime(2026, 1, 2, 3, 4, tzinfo=UTC).timestamp() + i,
        latency_ms=0.4,
        request_ids=[f"r{i}-{j}" for j in range(n)],
        scores=np.array([0.2, 0.9][:n], dtype=np.float32),
        features={"amount": [1.5, None][:n], "country": ["DE", "ZZ"][:n], "is_new_device": [True, False][:n]},
        kinds={"amount": "numeric", "country": "categorical", "is_new_device": "boolean"},
        id_column="transaction_id",
        ids=[f"t{i}", None][:n],
        time_column="event_time",
        times=None,
    )


def test_rows_land_in_contract_partitions(tmp_path: Path) -> None:
    plog = PredictionLog(tmp_path, ServeMetrics(), flush_interval_s=0.05).start()
    for i in range(5):
        plog.append(_record(i))
    plog.close()
    files = list(tmp_path.glob("model=fraud/date=2026-01-02/part-*.parquet"))
    assert files and plog.written == 10 and plog.backlog == 0
    rel = duckdb.sql(f"select * from read_parquet('{tmp_path}/**/*.parquet', hive_partitioning=false)")
    cols = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    assert cols["request_id"] == "VARCHAR" and cols["ts"] == "TIMESTAMP WITH TIME ZONE"
    assert cols["model_version"] == "BIGINT" and cols["decision"] == "TINYINT" and cols["amount"] == "DOUBLE"
    assert cols["is_new_device"] == "BOOLEAN" and "transaction_id" in cols and "event_time" in cols
    decisions = duckdb.sql(
        f"select decision from read_parquet('{tmp_path}/**/*.parquet') order by score"
    ).fetchall()
    assert [d[0] for d in decisions] == [0] * 5 + [1] * 5


def test_backlog_beyond_limit_is_dropped_and_counted(tmp_path: Path) -> None:
    metrics = ServeMetrics()
    plog = PredictionLog(tmp_path, metrics, max_backlog_rows=5)  # not started: nothing drains
    for i in range(4):
        plog.append(_record(i))
    assert plog.dropped == 4 and plog.backlog == 4
    assert "shopml_prediction_log_dropped_rows_total 4.0" in metrics.render().decode()
    plog.close()
    assert plog.written == 4 and plog.backlog == 0


def test_write_failure_is_counted_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    metrics = ServeMetrics()
    plog = PredictionLog(blocker, metrics)
    plog.append(_record(0))
    plog.flush()
    assert plog.dropped == 2 and "shopml_prediction_log_write_errors_total 1.0" in metrics.render().decode()
