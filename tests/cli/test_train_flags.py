"""``--config`` is the settings file on ``shopml train`` too; the training YAML is ``--train-config``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shopml.cli.main import app

TRAINING = "table: {table}\ntarget: is_fraud\ntime_column: ts\n"


def _run(*args: str) -> tuple[int, str, str]:
    out = CliRunner().invoke(app, ["train", *args], env={"COLUMNS": "200"})
    return out.exit_code, out.stdout, out.stderr


def test_train_config_flag_reads_the_training_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(TRAINING.format(table=tmp_path / "nope.parquet"))
    code, _, err = _run("--train-config", str(cfg), "-w", str(tmp_path / "ws"))
    assert code == 2
    assert "nope.parquet" in err and "does not exist" in err
    assert "warning" not in err


def test_a_training_yaml_given_to_config_still_works_with_a_warning(tmp_path: Path) -> None:
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(TRAINING.format(table=tmp_path / "nope.parquet"))
    code, _, err = _run("--config", str(cfg), "-w", str(tmp_path / "ws"))
    err = " ".join(err.split())
    assert "warning:" in err and "pass the training YAML as --train-config" in err
    assert code == 2 and "nope.parquet" in err  # it went on as the training config


def test_config_is_the_settings_file(tmp_path: Path) -> None:
    settings = tmp_path / "shopml.yaml"
    settings.write_text("serve: {prot: 1}\n")
    code, _, err = _run("--task", "fraud", "--config", str(settings), "-w", str(tmp_path / "ws"))
    assert code == 2
    assert f"{settings}: unknown key 'serve.prot'" in " ".join(err.split())


def test_settings_file_and_training_yaml_together(tmp_path: Path) -> None:
    settings = tmp_path / "shopml.yaml"
    settings.write_text(f"workspace: {tmp_path / 'from-settings'}\n")
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(TRAINING.format(table="missing.parquet"))
    code, _, err = _run("--config", str(settings), "--train-config", str(cfg))
    assert code == 2
    assert str(tmp_path / "missing.parquet") in " ".join(err.split())  # relative to the YAML's folder


def test_help_names_both_flags() -> None:
    out = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    assert "--train-config" in out.stdout and "--config" in out.stdout
    assert "--settings" not in out.stdout  # the old spelling still parses, hidden
