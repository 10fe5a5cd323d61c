"""``shopml models list|show|promote|rollback`` through Typer's CliRunner on a real SQLite registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.journal.events import EventStore
from shopml.registry import Registry

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["models", *args])
    return result.exit_code, result.output


def test_list(registered: Registry) -> None:
    code, out = _run("list")
    assert code == 0, out
    assert "fraud" in out and "v1" in out and "v3" in out
    code, out = _run("list", "--json")
    data = json.loads(out)
    assert data[0]["name"] == "fraud" and data[0]["aliases"] == {"champion": 1, "challenger": 3}


def test_list_empty(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    code, out = _run("list", "--workspace", str(workspace))
    assert code == 0 and "No models registered" in out


def test_show(registered: Registry) -> None:
    code, out = _run("show", "fraud")
    assert code == 0, out
    assert "Versions of 'fraud'" in out and "0.700" in out
    assert [line for line in out.splitlines() if "v3" in line and "challenger" in line]
    code, out = _run("show", "fraud", "--alias", "challenger", "--json")
    assert code == 0 and json.loads(out)["version"] == 3
    code, out = _run("show", "fraud", "--version", "2")
    assert code == 0 and "v2" in out and "test.pr_auc" in out


def test_promote_and_rollback_record_events(registered: Registry) -> None:
    code, out = _run("promote", "fraud", "3", "--reason", "better on June")
    assert code == 0, out
    assert "v1 → v3" in out
    assert registered.aliases("fraud")["champion"] == 3
    code, out = _run("promote", "fraud", "3")
    assert code == 0 and "already the champion" in out
    code, out = _run("rollback", "fraud", "-r", "alerts")
    assert code == 0 and "v3 → v1" in out
    kinds = [(e.kind, e.evidence["version"]) for e in EventStore(registered.workspace).read(model="fraud")]
    assert kinds == [("promotion", 3), ("rollback", 1)]
    code, out = _run("rollback", "fraud")
    assert code == 2 and "no previous champion" in out


def test_unknown_model_exits_2(registered: Registry) -> None:
    for args in (["show", "ghost"], ["promote", "ghost", "1"], ["rollback", "ghost"]):
        code, out = _run(*args)
        assert code == 2, args
        assert "model 'ghost' is not registered" in out
    code, out = _run("show", "fraud", "--version", "9")
    assert code == 2 and "no version 9" in out
    code, out = _run("show", "fraud", "--version", "1", "--alias", "champion")
    assert code == 2 and "not both" in out
