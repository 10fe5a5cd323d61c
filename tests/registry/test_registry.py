"""Register, list, resolve, aliases, load_bundle; unknown names; nothing half-registered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from shopml.config import Settings, Workspace
from shopml.errors import ConfigError, DataError, NotFoundError, ShopmlError
from shopml.registry import CHALLENGER, CHAMPION, Registry


def test_first_version_is_champion_later_challenger(
    registry: Registry, make_bundle: Callable[..., Path]
) -> None:
    v1 = registry.register(make_bundle(), params={"max_depth": 4, "strategy": "none"}, metrics={"f1": 0.5})
    v2 = registry.register(make_bundle(), params={}, metrics={"f1": 0.6}, tags={"trigger": "drift"})
    assert (v1.version, v1.aliases) == (1, [CHAMPION])
    assert (v2.version, v2.aliases) == (2, [CHALLENGER])
    assert registry.aliases("fraud") == {CHAMPION: 1, CHALLENGER: 2}
    assert v2.metrics["f1"] == 0.6 and v2.metrics["pr_auc"] == 0.61 and v2.metrics["ci.low"] == 0.55
    assert "note" not in v2.metrics
    assert v2.tags["trigger"] == "drift"
    assert v2.tags["lineage.data_fingerprint"] == "sha256:abc123"
    assert "lineage.library_versions.mlflow" in v2.tags
    assert v2.tags["shopml.threshold"] == "0.3"
    assert v2.run_id and v2.source.endswith("/bundle") and v2.created_at is not None


def test_lineage_from_bundle_wins(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    mv = registry.register(make_bundle(git_commit="f" * 40), params={}, metrics={})
    assert mv.tags["lineage.git_commit"] == "f" * 40


def test_list_versions_resolve(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    registry.register(make_bundle("fraud"), params={}, metrics={})
    registry.register(make_bundle("fraud"), params={}, metrics={})
    registry.register(make_bundle("returns"), params={}, metrics={}, set_alias=None)
    models = {m.name: m for m in registry.list_models()}
    assert sorted(models) == ["fraud", "returns"]
    assert (models["fraud"].n_versions, models["fraud"].latest_version) == (2, 2)
    assert (models["fraud"].champion, models["fraud"].challenger) == (1, 2)
    assert models["returns"].aliases == {}
    assert [(v.version, v.aliases) for v in registry.versions("fraud")] == [
        (1, [CHAMPION]),
        (2, [CHALLENGER]),
    ]
    assert registry.resolve("fraud").version == 1
    assert registry.resolve("fraud", "challenger").version == 2
    assert registry.resolve("fraud", 2).version == registry.resolve("fraud", "2").version == 2


def test_explicit_alias(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    registry.register(make_bundle(), params={}, metrics={})
    mv = registry.register(make_bundle(), params={}, metrics={}, set_alias="shadow")
    assert mv.aliases == ["shadow"]
    with pytest.raises(ConfigError, match="alias 'latest' is not valid"):
        registry.register(make_bundle(), params={}, metrics={}, set_alias="latest")


def test_unknown_names_raise_not_found(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(NotFoundError, match="model 'nope' is not registered"):
        registry.resolve("nope")
    registry.register(make_bundle(), params={}, metrics={})
    with pytest.raises(NotFoundError, match=r"model 'fraud' has no version 9 \(versions: 1\)"):
        registry.resolve("fraud", 9)
    with pytest.raises(NotFoundError, match="model 'fraud' has no alias 'challenger'"):
        registry.resolve("fraud", "challenger")
    for call in (registry.versions, registry.aliases, registry.history, registry.load_bundle):
        with pytest.raises(NotFoundError, match="'ghost'"):
            call("ghost")


def test_invalid_bundles_write_nothing(
    registry: Registry, tmp_path: Path, make_bundle: Callable[..., Path]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError, match=r"bundle\.json does not exist"):
        registry.register(empty, params={}, metrics={})
    with pytest.raises(NotFoundError, match=r"bundle folder .*missing does not exist"):
        registry.register(tmp_path / "missing", params={}, metrics={})
    no_onnx = make_bundle()
    (no_onnx / "model.onnx").unlink()
    with pytest.raises(NotFoundError, match=r"model\.onnx does not exist"):
        registry.register(no_onnx, params={}, metrics={})
    bad = make_bundle()
    (bad / "bundle.json").write_text(json.dumps({"name": "fraud"}))
    with pytest.raises(DataError, match="invalid bundle metadata"):
        registry.register(bad, params={}, metrics={})
    with pytest.raises(DataError, match="metric 'f1' must be a number, got 'high'"):
        registry.register(make_bundle(), params={}, metrics={"f1": "high"})  # type: ignore[dict-item]
    with pytest.raises(DataError, match=r"param name '\.\./x' is not valid"):
        registry.register(make_bundle(), params={"../x": 1}, metrics={})
    with pytest.raises(DataError, match="model name 'bad name!' is not usable"):
        registry.register(make_bundle("bad name!"), params={}, metrics={})
    assert registry.list_models() == []


def test_load_bundle_round_trip(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    src = make_bundle(threshold=0.42)
    registry.register(src, params={}, metrics={})
    bundle = registry.load_bundle("fraud")
    assert bundle.version == 1 and bundle.threshold == 0.42
    assert bundle.path == registry.cache_dir / "fraud" / "1"
    assert bundle.onnx_path.read_bytes() == (src / "model.onnx").read_bytes()
    assert bundle.schema["amount"].kind.value == "numeric"
    again = registry.load_bundle("fraud", 1)
    assert again.path == bundle.path
    assert not [p for p in (registry.cache_dir / "fraud").iterdir() if p.name.startswith(".")]


def test_store_is_sqlite_in_wal_mode(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    import sqlite3

    registry.register(make_bundle(), params={}, metrics={})
    db = registry.workspace.registry_dir / "mlflow.db"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (registry.workspace.artifacts_dir / "fraud").is_dir()


def test_uri_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    monkeypatch.setenv("SHOPML_MLFLOW_URI", "sqlite:///" + str(tmp_path / "team.db"))
    assert Registry(ws).tracking_uri.endswith("team.db")
    assert Registry(ws, "http://mlflow.internal:5000").tracking_uri == "http://mlflow.internal:5000"
    monkeypatch.delenv("SHOPML_MLFLOW_URI")
    assert Registry(ws).tracking_uri == ws.mlflow_uri
    settings = Settings(workspace=tmp_path / "other", mlflow_uri="sqlite:///" + str(tmp_path / "s.db"))
    assert Registry.from_settings(settings).tracking_uri.endswith("s.db")


def test_unreachable_team_server_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    reg = Registry(Workspace(tmp_path / "ws"), "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(ShopmlError, match=r"MLflow store http://127\.0\.0\.1:9: .*Connection"):
        reg.list_models()
