"""``shopml demo --task recs`` in a tiny version: the first recommender trained before a new-items
surge, the days after it replayed under the triggered loop, a daily schedule and never retraining, the
triggered policy monitored from its own prediction log, and the dashboard written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.demo.recs import POLICIES, RecsDemoConfig, run_recs_demo
from shopml.recs.gru import GRUParams

TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)


def test_tiny_recs_demo_compares_the_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    torch.set_num_threads(1)
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    cfg = RecsDemoConfig(days=9, onset=6, first_train_day=5, customers=1200, gru=TINY, gate_sessions=200)
    result = run_recs_demo(tmp_path, cfg)
    assert result.days and all(len(result.daily[p]) == len(result.days) == 4 for p in POLICIES)
    assert all(0.0 <= v <= 1.0 for p in POLICIES for v in result.daily[p])
    assert result.retrains["never"] == 0 and result.retrains["daily"] >= 1
    assert result.daily["never"][0] == result.daily["daily"][0]  # the same first champion on day one
    assert {"detection (days after onset)", "promotion (days after onset)"} <= set(result.outcomes)
    assert [r["policy"] for r in result.policy_table] == list(POLICIES)
    assert result.policy_table[1]["vs never, onset→end [95% CI]"].count("[") == 1
    assert (tmp_path / "demo-recs" / "triggered" / "logs" / "predictions" / "model=recs").is_dir()
    reports = list((tmp_path / "demo-recs" / "triggered" / "reports" / "monitor").rglob("*.json"))
    assert reports, "the triggered policy was not monitored"
    html = result.dashboard.read_text()
    assert "recommender" in html and "never" in html and "daily" in html


def test_demo_rejects_an_unknown_task(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["demo", "--task", "prices", "--workspace", str(tmp_path)])
    assert out.exit_code == 2 and "--task must be 'recs'" in out.output
