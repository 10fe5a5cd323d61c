"""``shopml drift``: exit codes, written reports, bad usage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopml.cli.main import app

runner = CliRunner()


def _write(path: Path, shift: float, seed: int, extra_cat: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    cats = ["x", "y", "z"] if extra_cat else ["x", "y"]
    t = pa.table({"amount": rng.normal(shift, 1, 1500), "channel": rng.choice(cats, 1500)})
    if path.suffix == ".csv":
        pacsv.write_csv(t, path)
    else:
        pq.write_table(t, path)
    return path


@pytest.fixture
def files(tmp_path: Path, workspace: Path) -> dict[str, Path]:
    return {
        "ref": _write(tmp_path / "ref.parquet", 0.0, 0),
        "same": _write(tmp_path / "same.csv", 0.0, 1),
        "moved": _write(tmp_path / "moved.parquet", 0.6, 2, extra_cat=True),
    }


def test_drift_found_exits_1_and_writes_reports(files: dict[str, Path], tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    args = ["drift", str(files["ref"]), str(files["moved"]), "--json", str(out_json), "--html", str(out_html)]
    result = runner.invoke(app, [*args, "--fail-on-drift"])
    assert result.exit_code == 1, result.output
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "drift" and data["version"] == 1
    assert {f["name"]: f["new_categories"] for f in data["features"]}["channel"] == ["z"]
    assert out_html.read_text().startswith("<!doctype html>")
    assert runner.invoke(app, args).exit_code == 0  # without --fail-on-drift drift is not a failure


def test_no_drift_exits_0_on_csv(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["drift", str(files["ref"]), str(files["same"]), "--fail-on-drift"])
    assert result.exit_code == 0, result.output
    assert "drift: ok" in result.output


def test_bad_usage_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["drift", str(files["ref"]), str(tmp_path / "nope.parquet")])
    assert result.exit_code == 2 and "does not exist" in result.output
    bad = tmp_path / "drift.yaml"
    bad.write_text("correction: holm\n")
    result = runner.invoke(app, ["drift", str(files["ref"]), str(files["same"]), "--drift-config", str(bad)])
    assert result.exit_code == 2 and "unknown correction 'holm'" in result.output
    assert runner.invoke(app, ["drift", "--help"]).exit_code == 0
