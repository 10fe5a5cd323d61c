"""Fixtures: tiny fake bundle folders (the registry never parses the ONNX bytes) and a registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shopml.config import Workspace
from shopml.registry import BundleMeta, Registry
from shopml.registry.bundle import write_bundle

SCHEMA = {
    "features": [
        {"name": "transaction_id", "kind": "id"},
        {"name": "amount", "kind": "numeric"},
        {"name": "is_fraud", "kind": "target"},
    ]
}


def make_bundle_dir(path: Path, name: str = "fraud", threshold: float = 0.3, **lineage: str) -> Path:
    """A minimal bundle: ``bundle.json`` via BundleMeta plus a few bytes standing in for model.onnx."""
    meta = BundleMeta(
        name=name,
        task="fraud",
        schema=SCHEMA,
        inputs=["amount"],
        threshold=threshold,
        id_column="transaction_id",
        target="is_fraud",
        metrics={"pr_auc": 0.61, "ci": {"low": 0.55, "high": 0.66}, "note": "text is skipped"},
        lineage={"data_fingerprint": "sha256:abc123", **lineage},
    )
    write_bundle(path, meta, b"\x08\x07fake-onnx-" + name.encode(), {"report.html": "<html></html>"})
    return path


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[..., Path]:
    """``make_bundle(name="fraud", threshold=0.3)`` → a fresh bundle folder."""
    counter = iter(range(10_000))

    def make(name: str = "fraud", threshold: float = 0.3, **lineage: str) -> Path:
        return make_bundle_dir(tmp_path / f"bundle-{next(counter)}", name, threshold, **lineage)

    return make


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A registry on SQLite in a fresh workspace."""
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    reg = Registry(Workspace(tmp_path / "ws"))
    yield reg
    reg.close()
