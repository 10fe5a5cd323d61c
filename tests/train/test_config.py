"""Training configs: presets, user YAML, overlays and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopml.errors import ConfigError
from shopml.train import TASKS, load_train_config, preset


def test_presets_name_the_simulator_columns() -> None:
    assert set(TASKS) == {"fraud", "returns"}
    fraud = preset("fraud", "sim")
    assert fraud.table == Path("sim/transactions")
    assert "fraud_pattern" in fraud.drop_columns
    assert fraud.model_name == "fraud"
    returns = preset("returns", "sim", name="hv-returns")
    assert (returns.target, returns.model_name) == ("is_high_value_return", "hv-returns")


def test_unknown_task_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown task 'images'.*fraud, returns"):
        preset("images", "sim")


def test_user_yaml_resolves_table_against_its_folder(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text(
        "table: data/loans.csv\ntarget: default\ntime_column: ts\nid_column: loan_id\n"
        "costs: {false_positive: 3}\nimbalance: auto\n"
    )
    cfg = load_train_config(tmp_path / "cfg.yaml")
    assert cfg.table == tmp_path / "data" / "loans.csv"
    assert (cfg.model_name, cfg.costs.false_positive, cfg.imbalance) == ("custom", 3.0, "auto")


def test_yaml_overlays_preset_deeply(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text("costs: {false_positive: 9}\nsearch: {n_trials: 3}\n")
    cfg = load_train_config(tmp_path / "cfg.yaml", task="fraud", data_dir=tmp_path / "sim")
    assert cfg.costs.amount_column == "amount"  # kept from the preset
    assert cfg.costs.false_positive == 9.0
    assert cfg.table == tmp_path / "sim" / "transactions"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("table: x\ntarget: y\ntime_column: t\nimbalence: auto\n", "unknown key 'imbalence'"),
        ("table: x\ntarget: y\ntime_column: t\nimbalance: smot\n", "key 'imbalance' = 'smot'"),
        ("table: x\ntarget: y\ntime_column: t\nsplit: {valid_fraction: 0.6}\n", "split.valid_fraction"),
        ("table: x\ntarget: y\ntime_column: t\nsearch: {space: {depth: [1]}}\n", "unknown parameters"),
        ("- a\n- b\n", "expected a mapping"),
        ("table: x\n", "key 'target'"),
    ],
)
def test_bad_yaml_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "cfg.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_train_config(tmp_path / "cfg.yaml")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_train_config(tmp_path / "nope.yaml")
