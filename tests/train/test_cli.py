"""``shopml train`` from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shopml.cli.main import app

SMALL = (
    "model: {n_estimators: 30, max_depth: 3, early_stopping_rounds: 10, n_jobs: 1}\n"
    "search: {n_trials: 1}\nbootstrap: 20\nlearning_curve_sizes: [1.0]\nsplit: {gap_days: 0.5}\n"
)


def test_train_prints_metrics_and_diagnosis(tmp_path: Path, sim_dir: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    args = [
        "train",
        "--data",
        str(sim_dir),
        "--task",
        "fraud",
        "--train-config",
        str(tmp_path / "small.yaml"),
        "--imbalance",
        "undersample",
        "--seed",
        "3",
        "--no-register",
        "-w",
        str(tmp_path / "ws"),
    ]
    out = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert out.exit_code == 0, out.output
    for text in ("pr_auc", "logistic baseline", "diagnosis:", "strategy undersample", "report:"):
        assert text in out.output, text
    assert not (tmp_path / "ws" / "mlflow" / "mlflow.db").exists()


def test_unknown_task_is_a_usage_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--task", "taxi", "-w", str(tmp_path)])
    assert out.exit_code == 2
    assert "unknown task 'taxi'" in out.output


def test_missing_data_is_named(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["train", "--data", str(tmp_path / "nope"), "--task", "fraud", "-w", str(tmp_path)]
    )
    assert out.exit_code == 2
    assert "does not exist" in out.output


def test_needs_task_or_config(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["train", "-w", str(tmp_path)])
    assert out.exit_code == 2 and "--task" in out.output


def test_data_defaults_to_the_simulator_folder_in_the_workspace(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["train", "--task", "fraud", "-w", str(tmp_path / "ws")])
    assert out.exit_code == 2
    assert str(tmp_path / "ws" / "data" / "world" / "transactions") in out.output.replace("\n", "")
