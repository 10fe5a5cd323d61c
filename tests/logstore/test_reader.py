"""Reading the prediction log: half-open windows, event time with a fallback, evolving columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from shopml.errors import DataError, NotFoundError
from shopml.logstore import PredictionLog, as_utc, write_predictions

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def _rows(
    times: list[datetime], event: list[datetime | None] | None = None, **extra: list[object]
) -> pa.Table:
    n = len(times)
    cols: dict[str, object] = {
        "request_id": [f"r{i}-{times[i].isoformat()}" for i in range(n)],
        "ts": pa.array(times, TS),
        "model": ["fraud"] * n,
        "model_version": pa.array([1] * n, pa.int64()),
        "score": [0.1] * n,
        "decision": pa.array([0] * n, pa.int8()),
        "threshold": [0.5] * n,
        "latency_ms": [1.0] * n,
        **extra,
    }
    if event is not None:
        cols["event_time"] = pa.array(event, TS)
    return pa.table(cols)


def test_windows_use_event_time_with_ts_fallback(workspace: Path) -> None:
    wall = [T0 + timedelta(days=40, minutes=i) for i in range(4)]  # a replay: logged much later
    event = [T0, T0 + timedelta(hours=23, minutes=59), T0 + timedelta(days=1), None]
    write_predictions(workspace, "fraud", _rows(wall, event, amount=[1.0, 2.0, 3.0, 4.0]))
    later = T0 + timedelta(days=2)
    write_predictions(workspace, "fraud", _rows([later], [later]))  # a file without 'amount'
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    assert log.count(T0, T0 + timedelta(days=1)) == 2  # half-open: the day-1 row belongs to the next window
    t = log.read(T0, T0 + timedelta(days=3), ["amount", "__time"])
    assert sorted(t.column("amount").to_pylist(), key=lambda v: -1 if v is None else v) == [
        None,
        1.0,
        2.0,
        3.0,
    ]
    assert log.count(wall[3], wall[3] + timedelta(seconds=1)) == 1  # no event time: prediction time
    assert log.span().rows == 5
    assert sum(b.num_rows for b in log.batches(T0, T0 + timedelta(days=90), ["score"], batch_size=2)) == 5
    assert PredictionLog(workspace, "fraud").count(T0, T0 + timedelta(days=1)) == 0  # on ts: all later


def test_bad_inputs(workspace: Path) -> None:
    log = PredictionLog(workspace, "nope")
    assert not log.exists and log.span().rows == 0
    with pytest.raises(NotFoundError, match="no prediction log for model 'nope'"):
        log.read(T0, T0, ["score"])
    write_predictions(workspace, "fraud", _rows([T0]))
    with pytest.raises(DataError, match=r"lacks column\(s\) \['amount'\]"):
        PredictionLog(workspace, "fraud").read(T0, T0, ["amount"])
    with pytest.raises(DataError, match="contract 5 needs"):
        write_predictions(workspace, "fraud", pa.table({"score": [0.1]}))
    with pytest.raises(DataError, match="expected an ISO-8601 time"):
        as_utc("last tuesday")


def test_version_filter(workspace: Path) -> None:
    v1, v2 = _rows([T0, T0]), _rows([T0 + timedelta(hours=1)])
    v2 = v2.set_column(v2.column_names.index("model_version"), "model_version", pa.array([2], pa.int64()))
    write_predictions(workspace, "fraud", pa.concat_tables([v1, v2]))
    end = T0 + timedelta(days=1)
    assert PredictionLog(workspace, "fraud").count(T0, end) == 3
    assert PredictionLog(workspace, "fraud", version=2).count(T0, end) == 1
    assert PredictionLog(workspace, "fraud", version=2).span().rows == 1
