"""The log says whose clock a row's monitoring time comes from; logs from before the column still read;
a failed write leaves no temporary file behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.config import Workspace
from shopml.logstore import TIME_SOURCES, LogStream, LogWriter, PredictionLog, write_part
from shopml.logstore import layout as layout_module
from shopml.serve import ServeMetrics

KINDS = {"amount": "numeric", "country": "categorical"}
DAY = datetime(2026, 1, 2, tzinfo=UTC)


def _lines(stream: LogStream, source: str, fast: bool) -> bytes:
    times = [DAY, None]
    scores = np.array([0.2, 0.9], dtype=np.float32)
    ts = (DAY + timedelta(hours=1)).timestamp()
    if fast:
        rows = [{"amount": 1.0, "country": "DE", "transaction_id": "a"}, {"amount": 2.0, "country": "FR"}]
        return stream.row_lines(rows, ["r0", "r1"], scores, ts, 0.3, times, time_source=source)
    cols = {"amount": [1.0, 2.0], "country": ["DE", "FR"]}
    return stream.lines(["r0", "r1"], scores, cols, ts, 0.3, ["a", None], times, time_source=source)


@pytest.mark.parametrize("fast", [True, False], ids=["rows", "columns"])
@pytest.mark.parametrize("source", ["client", "client_unchecked"])
def test_each_row_records_its_time_source(fast: bool, source: str) -> None:
    stream = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", "event_time")
    table = stream.table(_lines(stream, source, fast))
    assert table.column("time_source").to_pylist() == [source, "server"]
    assert set(table.column("time_source").to_pylist()) <= set(TIME_SOURCES)
    no_time = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", None)
    assert no_time.table(_lines(no_time, source, fast)).column("time_source").to_pylist() == ["server"] * 2


def test_logs_without_the_column_still_read(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    stream = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", "event_time")
    new = stream.table(_lines(stream, "client", fast=False))
    old = new.drop_columns(["time_source"])  # a part written before the column existed
    folder = ws.predictions_dir / "model=fraud" / "date=2026-01-02"
    write_part(folder, old)
    write_part(folder, new)
    log = PredictionLog(tmp_path, "fraud", time_column="event_time")
    got = log.read(DAY, DAY + timedelta(days=1), ["request_id", "time_source", "__time"])
    assert got.num_rows == 4
    assert sorted(got.column("time_source").to_pylist(), key=str) == [None, None, "client", "server"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(table: pa.Table, where: str) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(layout_module.pq, "write_table", half_written)
    table = pa.table({"x": [1, 2]})
    with pytest.raises(OSError, match="No space left"):
        write_part(tmp_path / "part", table)
    assert list((tmp_path / "part").iterdir()) == []
    # the serving writer counts the failure, keeps serving, and leaves nothing half-written either
    stream = LogStream("fraud", 1, 0.5, KINDS, "transaction_id", "event_time")
    plog = LogWriter(tmp_path / "logs", ServeMetrics(), flush_interval_s=0.05)
    plog.append(stream, DAY.timestamp(), 2, _lines(stream, "client", fast=True))
    assert plog.flush() == 2 and plog.written == 0 and plog.dropped == 2
    assert [p.name for p in (tmp_path / "logs").rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    plog.append(stream, DAY.timestamp(), 2, _lines(stream, "client", fast=True))
    assert plog.flush() == 2 and plog.written == 2
    assert [p.suffix for p in (tmp_path / "logs").rglob("*") if p.is_file()] == [".parquet"]
    assert pq.read_table(next((tmp_path / "logs").rglob("*.parquet"))).num_rows == 2
