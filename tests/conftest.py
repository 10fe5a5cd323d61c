"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from shopml.registry import Registry


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace folder, also exported as SHOPML_WORKSPACE; cwd moved to tmp."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("SHOPML_WORKSPACE", str(ws))
    monkeypatch.chdir(tmp_path)
    return ws


@pytest.fixture
def registered(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A workspace whose own SQLite registry holds 'fraud' v1 (champion), v2 and v3 (challenger)."""
    from shopml.config import Workspace
    from shopml.registry import BundleMeta, Registry, write_bundle

    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    reg = Registry(Workspace(workspace))
    schema = {"features": [{"name": "amount", "kind": "numeric"}, {"name": "is_fraud", "kind": "target"}]}
    for i in range(3):
        meta = BundleMeta(name="fraud", task="fraud", schema=schema, inputs=["amount"], threshold=0.25)
        write_bundle(tmp_path / f"b{i}", meta, b"onnx")
        reg.register(tmp_path / f"b{i}", params={"i": i}, metrics={"test.pr_auc": 0.5 + i / 10, "f1": 0.4})
    return reg


# Deterministic property tests that tolerate a slow, shared CI machine.
settings.register_profile(
    "shopml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shopml")
