"""Label ingest: validation, storage, join on request id and on the business key, as-of semantics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.errors import DataError, SchemaError
from shopml.logstore import LabelStore, PredictionLog, ingest_labels, write_predictions
from shopml.registry import ModelBundle

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=10)
Synth = Callable[..., tuple[pa.Table, pa.Table]]


def _setup(ws: Path, synth: Synth, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    preds, labels = synth(600, 10, seed)
    write_predictions(ws, "fraud", preds)
    return preds, labels


def test_join_on_business_key_respects_as_of(workspace: Path, synth: Synth) -> None:
    _, labels = _setup(workspace, synth)
    result = ingest_labels(workspace, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    assert (result.rows, result.matched, result.key_column) == (600, 600, "transaction_id")
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    store = LabelStore(workspace, "fraud")
    late = store.labelled(log, "is_fraud", "transaction_id", START, END, as_of=END + timedelta(days=40))
    assert late.num_rows == 600 and late.column("label").null_count == 0
    by_id = dict(
        zip(labels.column("transaction_id").to_pylist(), labels.column("is_fraud").to_pylist(), strict=True)
    )
    joined = store.labelled(log, "is_fraud", "transaction_id", START, END, END, columns=["transaction_id"])
    for tid, y, at in zip(
        *(joined.column(c).to_pylist() for c in ("transaction_id", "label", "label_available_at")),
        strict=True,
    ):
        assert y is None or (y == by_id[tid] and at <= END)
    expected = pc.sum(
        pc.less_equal(labels.column("label_available_at"), pa.scalar(END, labels.schema.field(2).type))
    )
    assert joined.num_rows - joined.column("label").null_count == expected.as_py()


def test_join_on_request_id_from_csv(workspace: Path, tmp_path: Path, synth: Synth) -> None:
    preds, labels = _setup(workspace, synth, seed=1)
    half = pa.table(
        {
            "request_id": preds.column("request_id").slice(0, 300),
            "is_fraud": labels.column("is_fraud").slice(0, 300),
            "label_available_at": pc.strftime(
                labels.column("label_available_at").slice(0, 300), "%Y-%m-%dT%H:%M:%S+00:00"
            ),
        }
    )
    csv = tmp_path / "labels.csv"
    pacsv.write_csv(half, csv)
    result = ingest_labels(workspace, "fraud", csv, label_column="is_fraud", id_column="transaction_id")
    assert (result.key_column, result.matched) == ("request_id", 300)
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    joined = LabelStore(workspace, "fraud").labelled(
        log, "is_fraud", "transaction_id", START, END, END + timedelta(days=60)
    )
    assert joined.num_rows - joined.column("label").null_count == 300


def test_bad_label_files(workspace: Path, tmp_path: Path, synth: Synth) -> None:
    _setup(workspace, synth)
    kw = {"label_column": "is_fraud", "id_column": "transaction_id"}
    with pytest.raises(DataError, match="does not exist"):
        ingest_labels(workspace, "fraud", tmp_path / "nope.parquet", **kw)
    with pytest.raises(
        SchemaError, match="no key column: expected 'request_id' or the business key 'transaction_id'"
    ):
        ingest_labels(workspace, "fraud", pa.table({"order_id": ["a"], "is_fraud": [1]}), **kw)
    with pytest.raises(SchemaError, match="no label column 'is_fraud'"):
        ingest_labels(workspace, "fraud", pa.table({"request_id": ["a"], "label": [1]}), **kw)
    with pytest.raises(DataError, match="must be 0 or 1, got 2"):
        ingest_labels(workspace, "fraud", pa.table({"request_id": ["a", "b"], "is_fraud": [1, 2]}), **kw)
    with pytest.raises(DataError, match="duplicate"):
        ingest_labels(workspace, "fraud", pa.table({"request_id": ["a", "a"], "is_fraud": [1, 0]}), **kw)
    with pytest.raises(DataError, match="holds no rows"):
        ingest_labels(
            workspace,
            "fraud",
            pa.table({"request_id": pa.array([], pa.string()), "is_fraud": pa.array([], pa.int8())}),
            **kw,
        )
    assert LabelStore(workspace, "fraud").files == []


def test_cli_ingest(
    workspace: Path, tmp_path: Path, synth: Synth, make_bundle: Callable[..., ModelBundle]
) -> None:
    _, labels = _setup(workspace, synth)
    bundle = make_bundle()
    file = tmp_path / "labels.parquet"
    pq.write_table(labels, file)
    runner = CliRunner()
    ok = runner.invoke(app, ["labels", "ingest", str(file), "--model", "fraud", "--bundle", str(bundle.path)])
    assert ok.exit_code == 0, ok.output
    assert "600 of 600 matched" in ok.output
    bad = runner.invoke(
        app, ["labels", "ingest", str(tmp_path / "x.csv"), "--model", "fraud", "--bundle", str(bundle.path)]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.output
