"""Two processes registering into one workspace at once both succeed; failed logging creates no version."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shopml.config import Workspace
from shopml.errors import ShopmlError
from shopml.registry import Registry
from shopml.registry._backend import import_mlflow

from .conftest import make_bundle_dir


def _register(root: str, bundle: str, n: int, start: Any) -> None:
    start.wait(timeout=60)  # both processes hit the store at the same moment
    reg = Registry(Workspace(Path(root)))
    for _ in range(n):
        reg.register(Path(bundle), params={"pid": 1}, metrics={"f1": 0.5})


def test_two_processes_register_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    root = tmp_path / "ws"
    bundles = [make_bundle_dir(tmp_path / f"b{i}") for i in range(2)]
    import_mlflow()  # imported once here; each forked child opens the new store itself
    ctx = mp.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_register, args=(str(root), str(b), 3, start)) for b in bundles]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    reg = Registry(Workspace(root))
    assert [v.version for v in reg.versions("fraud")] == [1, 2, 3, 4, 5, 6]
    assert reg.aliases("fraud") == {"champion": 1, "challenger": 6}
    assert reg.load_bundle("fraud", 6).version == 6


def _load(root: str, out: Any, start: Any) -> None:
    start.wait(timeout=60)
    bundle = Registry(Workspace(Path(root))).load_bundle("fraud", "champion")
    out.put((bundle.version, sorted(p.name for p in bundle.path.iterdir())))


def test_concurrent_loads_see_whole_bundles(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    registry.register(make_bundle(), params={}, metrics={})
    import_mlflow()
    ctx = mp.get_context("fork")
    start, out = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_load, args=(str(registry.workspace.root), out, start)) for _ in range(3)]
    for p in procs:
        p.start()
    seen = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert seen == [(1, [".registry.json", "bundle.json", "model.onnx", "report.html"])] * 3
    assert sorted(p.name for p in (registry.cache_dir / "fraud").iterdir()) == ["1"]  # no temp folders left


def test_failed_artifact_logging_creates_no_version(
    registry: Registry, make_bundle: Callable[..., Path]
) -> None:
    blocker = registry.workspace.artifacts_dir / "fraud"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the artifact folder should be")  # logging the bundle fails
    with pytest.raises(ShopmlError, match=r"registering model 'fraud' from .* failed"):
        registry.register(make_bundle(), params={}, metrics={})
    assert registry.list_models() == []
    blocker.unlink()
    assert registry.register(make_bundle(), params={}, metrics={}).version == 1
