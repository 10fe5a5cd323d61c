"""The MLflow plumbing: URIs, the SQLite store's WAL mode, retries on transient conflicts, lineage."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from shopml.registry import Registry
from shopml.registry import _backend as be
from shopml.registry.lineage import collect_lineage, flatten_tags, git_commit, library_versions


def test_sqlite_path() -> None:
    assert be.sqlite_path("sqlite:////tmp/a/mlflow.db?timeout=5") == Path("/tmp/a/mlflow.db")
    assert be.sqlite_path("http://mlflow:5000") is None


def test_existing_store_is_switched_to_wal(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    sqlite3.connect(db).close()
    be._prepare_sqlite(db)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unwritable_cache_means_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert be._template() is None


def test_retry_locked_retries_only_transient_errors() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "ok"

    assert be.retry_locked(flaky, first_wait_s=0.001) == "ok" and len(calls) == 3

    def broken() -> None:
        calls.append(1)
        raise ValueError("no such table")

    calls.clear()
    with pytest.raises(ValueError, match="no such table"):
        be.retry_locked(broken, first_wait_s=0.001)
    assert len(calls) == 1


def test_lineage_fills_only_what_is_missing(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None  # not a git work tree
    versions = library_versions(("mlflow", "surely-not-installed-pkg"))
    assert list(versions) == ["mlflow"]
    given = collect_lineage({"git_commit": "a" * 40, "library_versions": {"x": "1"}, "seed": 7})
    assert given == {"git_commit": "a" * 40, "library_versions": {"x": "1"}, "seed": 7}
    filled = collect_lineage({"data_fingerprint": "abc"})
    assert "numpy" in filled["library_versions"] and "git_commit" in filled
    long = flatten_tags({"config": {"text": "y" * 6000}}, "lineage")["lineage.config.text"]
    assert len(long) == 5000 and long.endswith("…")


def test_importing_the_registry_does_not_import_mlflow() -> None:
    code = "import sys, shopml.registry; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mlflow_runs_quiet(registry: Registry, make_bundle: Callable[..., Path]) -> None:
    registry.register(make_bundle(), params={}, metrics={})
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert not list(Path.cwd().glob("mlruns"))  # nothing written outside the workspace
