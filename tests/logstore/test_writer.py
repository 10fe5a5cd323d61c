"""The prediction-log writer: contract columns, partitions, drops counted, close drains."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from shopml.logstore import LogStream, LogWriter
from shopml.serve import ServeMetrics

KINDS = {"amount": "numeric", "country": "categorical", "is_new_device": "boolean"}
TS = datetime(2026, 1, 2, 3, 4, tzinfo=UTC).timestamp()


def _append(plog: LogWriter, stream: LogStream, i: int) -> None:
    data = stream.lines(
        [f"r{i}-0", f"r{i}-1"],
        np.array([0.2, 0.9], dtype=np.float32),
        {"amount": [1.5, math.nan], "country": ["DE", "ZZ"], "is_new_device": [True, None]},
        TS + i,
        0.4,
        ids=[f"t{i}", None],
        times=[datetime(2026, 1, 1, tzinfo=UTC), None],
    )
    plog.append(stream, TS + i, 2, data)


def test_rows_land_in_contract_partitions(tmp_path: Path) -> None:
    stream = LogStream("fraud", 3, 0.5, KINDS, "transaction_id", "event_time")
    plog = LogWriter(tmp_path, ServeMetrics(), flush_interval_s=0.05).start()
    for i in range(5):
        _append(plog, stream, i)
    plog.close()
    assert list(tmp_path.glob("model=fraud/date=2026-01-02/part-*.parquet"))
    assert plog.written == 10 and plog.backlog == 0
    rel = duckdb.sql(f"select * from read_parquet('{tmp_path}/**/*.parquet', hive_partitioning=false)")
    assert rel is not None
    types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    assert list(types)[:8] == [
        "request_id",
        "ts",
        "model",
        "model_version",
        "score",
        "decision",
        "threshold",
        "latency_ms",
    ]
    assert types["ts"] == "TIMESTAMP WITH TIME ZONE" and types["event_time"] == "TIMESTAMP WITH TIME ZONE"
    assert (
        types["model_version"] == "BIGINT" and types["decision"] == "TINYINT" and types["amount"] == "DOUBLE"
    )
    assert types["is_new_device"] == "BOOLEAN" and types["transaction_id"] == "VARCHAR"
    q = f"select decision, amount, country, transaction_id from read_parquet('{tmp_path}/**/*.parquet')"
    rows = duckdb.execute(q + " order by score, request_id").fetchall()
    assert rows[0] == (0, 1.5, "DE", "t0") and rows[-1] == (1, None, "ZZ", None)


def test_backlog_beyond_limit_is_dropped_and_counted(tmp_path: Path) -> None:
    metrics = ServeMetrics()
    stream = LogStream("fraud", 1, 0.5, KINDS)
    plog = LogWriter(tmp_path, metrics, max_backlog_rows=5)  # not started: nothing drains
    for i in range(4):
        _append(plog, stream, i)
    assert plog.dropped == 4 and plog.backlog == 4
    plog.publish()
    text = metrics.render().decode()
    assert "shopml_prediction_log_dropped_rows_total 4.0" in text
    assert "shopml_prediction_log_backlog_rows 4.0" in text
    plog.close()
    assert plog.written == 4 and plog.backlog == 0


def test_write_failure_is_counted_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    metrics = ServeMetrics()
    plog = LogWriter(blocker, metrics)
    _append(plog, LogStream("fraud", 1, 0.5, KINDS), 0)
    plog.flush()
    assert plog.dropped == 2 and "shopml_prediction_log_write_errors_total 1.0" in metrics.render().decode()


def test_fast_path_rows_log_the_same_table_as_columns(tmp_path: Path) -> None:
    stream = LogStream("fraud", 3, 0.5, KINDS, "transaction_id", "event_time")
    rows: list[dict[str, Any]] = [
        {"amount": 1.5, "country": "DE", "is_new_device": True, "transaction_id": "t0", "event_time": "x"},
        {"amount": None, "country": "FR", "is_new_device": False},
    ]
    times = [datetime(2026, 1, 1, tzinfo=UTC), None]
    scores = np.array([0.25, 0.75], dtype=np.float32)
    fast = stream.table(stream.row_lines(rows, ["r-0", "r-1"], scores, TS, 0.4, times))
    columns: dict[str, list[Any]] = {
        "amount": [1.5, math.nan],
        "country": ["DE", "FR"],
        "is_new_device": [True, False],
    }
    general = stream.table(stream.lines(["r-0", "r-1"], scores, columns, TS, 0.4, ["t0", None], times))
    assert fast.equals(general) and fast.column("decision").to_pylist() == [0, 1]
    assert fast.column("amount").to_pylist() == [1.5, None]


def test_one_flush_splits_versions_and_days_into_their_own_files(tmp_path: Path) -> None:
    v1 = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", "event_time")
    v2 = LogStream("fraud", 2, 0.5, KINDS, "transaction_id", "event_time")
    plog = LogWriter(tmp_path, ServeMetrics())  # not started: one explicit flush takes everything
    for i, stream in enumerate([v1, v2, v1, v2, v1]):
        _append(plog, stream, i * 86400)  # i days later: a new date partition each time
    assert plog.flush() == 10 and plog.backlog == 0
    files = sorted(p.parent.name for p in tmp_path.glob("model=fraud/date=*/part-*.parquet"))
    assert files == [f"date=2026-01-{d:02d}" for d in range(2, 7)]
    got = duckdb.execute(
        f"select model_version, count(*) from read_parquet('{tmp_path}/**/*.parquet') group by 1 order by 1"
    ).fetchall()
    assert got == [(1, 6), (2, 4)]


TRICKY = ['say "hi"', "back\\slash", "two\nlines", "a,b", "tab\there", "\x01ctl", "ünï €", "null", "", "\\"]


def test_every_string_reads_back_exactly_from_the_csv_lines() -> None:
    stream = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", "event_time")
    n = len(TRICKY)
    rows: list[dict[str, Any]] = [
        {"amount": [3, None, 1e-300][i % 3], "country": s, "is_new_device": i % 2 == 0, "transaction_id": s}
        for i, s in enumerate(TRICKY)
    ]
    scores = np.linspace(0, 1, n, dtype=np.float32)
    ids = [f"{s}-{i}" for i, s in enumerate(TRICKY)]
    t = stream.table(stream.row_lines(rows, ids, scores, TS, 0.4, [None] * n))
    assert t.num_rows == n
    assert t.column("country").to_pylist() == TRICKY and t.column("transaction_id").to_pylist() == TRICKY
    assert t.column("request_id").to_pylist() == ids
    assert t.column("amount").to_pylist() == [[3.0, None, 1e-300][i % 3] for i in range(n)]
    assert t.column("is_new_device").to_pylist() == [i % 2 == 0 for i in range(n)]
    assert t.column("event_time").null_count == n
    columns: dict[str, list[Any]] = {
        "amount": [math.nan] * n,
        "country": [None, *TRICKY[1:]],
        "is_new_device": [None] * n,
    }
    g = stream.table(stream.lines(ids, scores, columns, TS, 0.4, TRICKY, None))
    assert g.column("country").to_pylist() == [None, *TRICKY[1:]]
    assert g.column("transaction_id").to_pylist() == TRICKY
    assert g.column("amount").null_count == n and g.column("is_new_device").null_count == n
