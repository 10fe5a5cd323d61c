"""``shopml labels ingest`` checks and stores labels as the model's kind defines them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.logstore.labels import LabelStore

from .conftest import TrainedKind


def test_cli_ingests_class_names_for_a_multiclass_model(
    trained_multiclass: TrainedKind, tmp_path: Path
) -> None:
    ws = Path(shutil.copytree(trained_multiclass.workspace, tmp_path / "ws"))
    labels = trained_multiclass.table.select(["order_id", "cultivar"]).slice(0, 20)
    good = tmp_path / "labels.parquet"
    pq.write_table(labels, good)
    runner = CliRunner()
    args = ["labels", "ingest", "--model", trained_multiclass.name, "--workspace", str(ws)]
    ok = runner.invoke(app, [*args[:2], str(good), *args[2:]])
    assert ok.exit_code == 0, ok.output
    assert "20 multiclass label(s)" in ok.output and "positive" not in ok.output
    stored = pq.read_table(LabelStore(ws, trained_multiclass.name, "string").files[0])
    assert stored.column("cultivar").to_pylist() == labels.column("cultivar").to_pylist()

    bad = tmp_path / "bad.parquet"
    pq.write_table(labels.set_column(1, "cultivar", pa.array(["merlot"] * 20)), bad)
    refused = runner.invoke(app, [*args[:2], str(bad), *args[2:]])
    assert refused.exit_code != 0
    assert "cultivar" in refused.output and "merlot" in refused.output
