"""The log contract end to end: what the serving writer logs, the reader and the label join read back; the
batch writer produces the same columns; the partition path is spelled in one module only."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import shopml
from shopml.config import Workspace
from shopml.logstore import (
    LOG_COLUMNS,
    LabelStore,
    LogStream,
    LogWriter,
    PredictionLog,
    ingest_labels,
    write_predictions,
)
from shopml.serve import ServeMetrics

KINDS = {"amount": "numeric", "country": "categorical", "is_new_device": "boolean"}
DAY = datetime(2026, 3, 1, tzinfo=UTC)
TRICKY = ['say "hi"', "back\\slash", "two\nlines", "a,b", "tab\there", "\x01ctl", "ünï €", "null", "", "\\"]


def _served(ws: Path, n: int) -> tuple[pa.Table, LogWriter]:
    """Log ``n`` rows through the serving writer (one answer per row, a second apart) and return what
    was sent, as a table, with the writer (closed)."""
    stream = LogStream("fraud", 7, 0.5, KINDS, "transaction_id", "event_time")
    plog = LogWriter(Workspace(ws).predictions_dir, ServeMetrics(), flush_interval_s=0.05).start()
    names = ("request_id", "score", "amount", "country", "device", "tid", "event_time")
    sent: dict[str, list[Any]] = {k: [] for k in names}
    for i in range(n):
        s = TRICKY[i % len(TRICKY)]
        amount = [12.5, None, math.nan, -3.0, 1e-300][i % 5]
        device = [True, False, None][i % 3]
        event = DAY + timedelta(minutes=i) if i % 4 else None
        score = np.array([i / n], dtype=np.float32)
        row = {"amount": amount, "country": s, "is_new_device": device, "transaction_id": f"{s}#{i}"}
        ts = (DAY + timedelta(hours=1, seconds=i)).timestamp()
        plog.append(stream, ts, 1, stream.row_lines([row], [f"r{i}"], score, ts, 0.3, [event]))
        sent["request_id"].append(f"r{i}")
        sent["score"].append(float(score[0]))
        sent["amount"].append(None if amount is None or math.isnan(amount) else amount)
        sent["country"].append(s)
        sent["device"].append(device)
        sent["tid"].append(f"{s}#{i}")
        sent["event_time"].append(event)
    plog.close()
    return pa.table(sent), plog


def test_served_rows_read_back_exactly(workspace: Path) -> None:
    sent, plog = _served(workspace, 40)
    assert plog.written == 40 and plog.dropped == 0
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    assert log.columns[: len(LOG_COLUMNS)] == list(LOG_COLUMNS)
    cols = ["request_id", "score", "decision", "model_version", "amount", "country", "is_new_device"]
    got = log.read(DAY, DAY + timedelta(days=1), [*cols, "transaction_id", "event_time", "__time"])
    got = got.sort_by("request_id")
    want = sent.sort_by("request_id")
    assert got.column("request_id").to_pylist() == want.column("request_id").to_pylist()
    assert got.column("country").to_pylist() == want.column("country").to_pylist()
    assert got.column("transaction_id").to_pylist() == want.column("tid").to_pylist()
    assert got.column("amount").to_pylist() == want.column("amount").to_pylist()
    assert got.column("is_new_device").to_pylist() == want.column("device").to_pylist()
    assert got.column("event_time").to_pylist() == want.column("event_time").to_pylist()
    assert np.allclose(got.column("score").to_numpy(), want.column("score").to_numpy())
    assert got.column("decision").to_pylist() == [int(s >= 0.5) for s in want.column("score").to_pylist()]
    assert set(got.column("model_version").to_pylist()) == {7}
    # monitoring time: the event time where the request carried one, else the prediction time
    for t, event, i in zip(
        got.column("__time").to_pylist(),
        want.column("event_time").to_pylist(),
        [int(r[1:]) for r in want.column("request_id").to_pylist()],
        strict=True,
    ):
        assert t == (event if event is not None else DAY + timedelta(hours=1, seconds=i))


def test_batch_writer_and_serving_writer_agree_on_the_columns(workspace: Path, tmp_path: Path) -> None:
    _served(workspace, 5)
    log = PredictionLog(workspace, "fraud")
    everything = log.con.sql(f"SELECT * FROM {log.source()}").to_arrow_table()
    assert everything.num_rows == 5
    other = tmp_path / "other"
    paths = write_predictions(other, "fraud", everything)
    assert [p.relative_to(Workspace(other).predictions_dir).parts[:2] for p in paths] == [
        ("model=fraud", "date=2026-03-01")
    ]
    again = PredictionLog(other, "fraud")
    back = again.con.sql(f"SELECT * FROM {again.source()}").to_arrow_table()
    assert back.schema == everything.schema
    assert back.sort_by("request_id").equals(everything.sort_by("request_id"))


def test_labels_join_what_the_server_logged(workspace: Path) -> None:
    sent, _ = _served(workspace, 30)
    labels = pa.table(
        {
            "transaction_id": sent.column("tid"),
            "is_fraud": pa.array([i % 2 for i in range(30)], pa.int8()),
            "label_available_at": pa.array(
                [DAY + timedelta(days=1 + i % 3) for i in range(30)], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    result = ingest_labels(workspace, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    assert (result.matched, result.key_column) == (30, "transaction_id")
    assert LabelStore(workspace, "fraud").root == Workspace(workspace).labels_dir / "model=fraud"
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    as_of = DAY + timedelta(days=2)  # labels with i % 3 == 2 have not arrived yet
    joined = LabelStore(workspace, "fraud").labelled(
        log, "is_fraud", "transaction_id", DAY, DAY + timedelta(days=1), as_of, columns=["transaction_id"]
    )
    tids, ys = joined.column("transaction_id").to_pylist(), joined.column("label").to_pylist()
    by_tid = dict(zip(tids, ys, strict=True))
    assert len(by_tid) == 30
    for i, tid in enumerate(sent.column("tid").to_pylist()):
        assert by_tid[tid] == (None if i % 3 == 2 else i % 2), (i, tid)


def test_partition_path_is_spelled_only_in_the_layout() -> None:
    src = Path(shopml.__file__).parent
    pattern = re.compile(r"""f["'][^"']*\bmodel=\{""")  # an f-string building a model=NAME folder
    spelled = [str(p.relative_to(src)) for p in src.rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert spelled == ["logstore/layout.py"]
