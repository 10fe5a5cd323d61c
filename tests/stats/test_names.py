"""One name for the resample count (``n_resamples``) and the level (``level``) in every settings class;
the spellings users wrote before (``bootstrap``, ``n_bootstrap``, ``ci_level``, ``confidence``) still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopml.errors import ConfigError
from shopml.loop.policy import GatePolicy
from shopml.train import load_train_config


def test_training_yaml_accepts_old_and_new_names(tmp_path: Path) -> None:
    base = "table: t.parquet\ntarget: y\ntime_column: ts\n"
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(base + "bootstrap: 40\nci_level: 0.9\n", encoding="utf-8")
    new.write_text(base + "n_resamples: 40\nlevel: 0.9\n", encoding="utf-8")
    a, b = load_train_config(old), load_train_config(new)
    assert (a.n_resamples, a.level) == (b.n_resamples, b.level) == (40, 0.9)
    assert "n_resamples" in a.model_dump() and "bootstrap" not in a.model_dump()
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "bootstrap: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'bootstrap' = 3"):
        load_train_config(bad)


def test_gate_policy_accepts_old_and_new_names() -> None:
    old = GatePolicy.model_validate({"confidence": 0.9, "n_bootstrap": 300})
    new = GatePolicy(level=0.9, n_resamples=300)
    assert old == new and new.model_dump()["n_resamples"] == 300


def test_monitor_settings_accept_old_and_new_names() -> None:
    from shopml.config import load_settings

    old = load_settings(
        environ={"SHOPML_PERFORMANCE__N_BOOTSTRAP": "300", "SHOPML_PERFORMANCE__CONFIDENCE": "0.8"}
    )
    new = load_settings(
        environ={"SHOPML_PERFORMANCE__N_RESAMPLES": "300", "SHOPML_PERFORMANCE__LEVEL": "0.8"}
    )
    assert old.performance == new.performance and new.performance.n_resamples == 300
