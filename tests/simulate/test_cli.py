"""``shopml simulate`` through Typer's CliRunner, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from shopml.cli.simulate import simulate_command

# the command exactly as shopml.cli.main registers it (importing the whole CLI is slow)
app = typer.Typer()
app.command("simulate")(simulate_command)
app.command("noop")(lambda: None)  # a second command keeps "simulate" a sub-command, as in shopml
runner = CliRunner()


def test_simulate_writes_the_world(tmp_path: Path, workspace: Path) -> None:
    out = tmp_path / "w"
    args = ["simulate", "--days", "4", "--customers", "500", "--seed", "3", "--out", str(out)]
    res = runner.invoke(
        app, [*args, "--scenario", "gradual_concept", "--start", "2025-06-02", "--onset", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "transactions" in res.output and "gradual_concept" in res.output
    man = json.loads((out / "manifest.json").read_text())
    assert man["params"]["start"] == "2025-06-02" and man["params"]["customers"] == 500
    assert (out / "transactions" / "date=2025-06-05" / "part-0.parquet").exists()
    assert json.loads((out / "drift_log.json").read_text())["events"][0]["start"].startswith("2025-06-03")


def test_simulate_defaults_to_the_workspace(workspace: Path) -> None:
    res = runner.invoke(app, ["simulate", "--days", "2", "--customers", "300"])
    assert res.exit_code == 0, res.output
    assert (workspace / "data" / "world" / "manifest.json").exists()


def test_unknown_scenario_exits_2_listing_the_valid_ones(workspace: Path) -> None:
    res = runner.invoke(app, ["simulate", "--days", "2", "--scenario", "meteor"])
    assert res.exit_code == 2
    assert "unknown scenario 'meteor'" in res.output
    for name in ("none", "sudden_covariate", "gradual_concept", "seasonal", "new_category", "data_quality"):
        assert name in res.output


def test_bad_values_exit_2(workspace: Path) -> None:
    assert runner.invoke(app, ["simulate", "--days", "0"]).exit_code == 2
    res = runner.invoke(app, ["simulate", "--start", "03/03/2025"])
    assert res.exit_code == 2 and "--start" in res.output
    res = runner.invoke(app, ["simulate", "--days", "5", "--onset", "7", "--scenario", "seasonal"])
    assert res.exit_code == 2 and "onset day 7" in res.output
    res = runner.invoke(app, ["simulate", "--fraud-rate", "-0.1"])
    assert res.exit_code == 2 and "fraud_rate" in res.output


def test_help_lists_the_options() -> None:
    res = runner.invoke(app, ["simulate", "--help"])
    assert res.exit_code == 0
    for option in ("--days", "--seed", "--scenario", "--out", "--customers", "--start", "--workspace"):
        assert option in res.output
