"""``run_monitor`` / ``shopml monitor`` end to end on a synthetic contract-5 prediction log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sklearn.metrics import average_precision_score
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.errors import ConfigError, NotFoundError
from shopml.journal.events import EventStore
from shopml.logstore import ingest_labels, write_predictions
from shopml.monitor.job import parse_window, run_monitor
from shopml.profile.reference import build_profile
from shopml.registry import ModelBundle

START = datetime(2026, 3, 1, tzinfo=UTC)
NOW = START + timedelta(days=30)
Synth = Callable[..., tuple[pa.Table, pa.Table]]


@pytest.fixture
def bundle(synth: Synth, make_bundle: Callable[..., ModelBundle]) -> ModelBundle:
    ref, labels = synth(20_000, 30, seed=999, threshold=0.2)
    y = labels.column("is_fraud").to_numpy()
    b = make_bundle(
        threshold=0.2, metrics={"pr_auc": average_precision_score(y, ref.column("score").to_numpy())}
    )
    build_profile(ref.slice(0, 5000), b.schema).save(b.profile_path)
    return b


def _world(ws: Path, synth: Synth, **kw: int) -> None:
    preds, labels = synth(12_000, 30, seed=kw.pop("seed", 1), threshold=0.2, **kw)
    write_predictions(ws, "fraud", preds)
    ingest_labels(ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id")


def test_quiet_on_a_stationary_world(workspace: Path, synth: Synth, bundle: ModelBundle) -> None:
    _world(workspace, synth)
    result = run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    assert result.status == "ok", [e.summary for e in result.events]
    assert result.drift is not None and result.drift.verdict in ("ok", "warning")
    matured = [w for w in result.windows if w.matured]
    assert len(result.windows) == 30 and 10 <= len(matured) <= 20
    assert all(w.realised is not None for w in matured)
    assert result.windows[-1].maturity < 0.5 and result.windows[-1].estimated is not None
    report = json.loads(result.json_path.read_text()) if result.json_path else {}
    assert report["version"] == 3 and report["status"] == "ok" and len(report["performance"]) == 30
    html = result.html_path.read_text() if result.html_path else ""
    assert html.count('src="plotly.min.js"') == 1 and "plotly.js v" not in html and "label maturity" in html
    assert "plotly.js v" in (result.json_path.parent / "plotly.min.js").read_text()[:2000]
    assert "Data drift, latest window" in html and "Features" in html
    assert EventStore(workspace).read(model="fraud") == []


def test_concept_drift_caught_by_performance_not_inputs(
    workspace: Path, synth: Synth, bundle: ModelBundle
) -> None:
    _world(workspace, synth, concept_day=8)
    result = run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    kinds = {(e.kind, e.evidence.get("source")) for e in result.events}
    assert ("performance", "realised") in kinds and ("performance", "estimated") not in kinds
    assert result.drift is not None and not result.drift.is_drift
    first = min(
        datetime.fromisoformat(e.evidence["window_start"])
        for e in result.events
        if e.evidence.get("source") == "realised"
    )
    assert first >= START + timedelta(days=8)
    for e in result.events:
        if e.evidence.get("source") == "realised":  # judged against the test interval's low end
            low = bundle.meta.metrics.get("pr_auc_low")
            assert e.evidence["reference_low"] == low
            assert e.evidence["high"] < (low if low is not None else e.evidence["reference"]) - 0.05
    assert any(s.drifts for s in result.stream)
    again = run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    assert again.events == []  # each problem is reported once
    assert len(EventStore(workspace).read(kind="performance")) == len(result.events)


def test_estimated_drop_is_seen_before_labels(workspace: Path, synth: Synth, bundle: ModelBundle) -> None:
    # 1,000 predictions a day: on 400 a day the honest (hour-block) intervals of the fresh baseline and of
    # one day are too wide to call even this drop (PR-AUC 0.44 -> 0.14) in a single window
    preds, labels = synth(30_000, 30, seed=1, threshold=0.2, blur_day=26)
    write_predictions(workspace, "fraud", preds)
    ingest_labels(workspace, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    result = run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    estimated = [e for e in result.events if e.evidence.get("source") == "estimated"]
    assert len(estimated) == 1, [e.summary for e in result.events]
    assert estimated[0].evidence["baseline"]["start"].startswith("2026-03-01")
    assert not any(e.evidence.get("source") == "realised" for e in result.events)  # no labels yet


def test_covariate_drift_raises_a_drift_event(workspace: Path, synth: Synth, bundle: ModelBundle) -> None:
    _world(workspace, synth, shift_day=29)
    result = run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    drift = [e for e in result.events if e.kind == "drift"]
    assert len(drift) == 1 and "amount" in drift[0].evidence["drifted_features"]
    assert drift[0].links and Path(drift[0].links[1]).exists()


def test_empty_window_and_missing_log(workspace: Path, synth: Synth, bundle: ModelBundle) -> None:
    with pytest.raises(NotFoundError, match="no prediction log for model 'fraud'"):
        run_monitor(workspace, "fraud", "1d", NOW, bundle=bundle)
    _world(workspace, synth)
    later = run_monitor(workspace, "fraud", "1d", NOW + timedelta(days=90), bundle=bundle, history=3)
    assert later.status == "insufficient_data" and later.drift is None
    assert later.drift_note is not None and "insufficient data" in later.drift_note
    assert "insufficient data" in later.windows[-1].notes[0]
    with pytest.raises(ConfigError, match="window must look like"):
        parse_window("1 day")


def test_cli_monitor_exit_codes(workspace: Path, synth: Synth, bundle: ModelBundle) -> None:
    _world(workspace, synth, shift_day=29)
    args = ["monitor", "--model", "fraud", "--now", NOW.isoformat(), "--bundle", str(bundle.path)]
    runner = CliRunner()
    res = runner.invoke(app, [*args, "--fail-on-alert"])
    assert res.exit_code == 1, res.output
    assert "drift" in res.output and "report:" in res.output
    text = " ".join(res.output.split())  # the console wraps long lines
    assert re.search(
        r"realised \(.*labelled, \d+% intervals\): pr_auc \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", text
    )
    bad = runner.invoke(app, [*args, "--window", "fortnight"])
    assert bad.exit_code == 2 and "window must look like" in bad.output


def test_a_flattering_test_metric_does_not_raise_drops(
    workspace: Path, synth: Synth, make_bundle: Callable[..., ModelBundle]
) -> None:
    """The bundle claims PR-AUC 0.95 [0.93, 0.97]; the stationary world realises far less from day one.
    Once the model's first 7 production days have matured, their realised interval is the reference
    too (the lower one counts): no drop is raised for a level the model never had."""
    ref, _ = synth(20_000, 30, seed=999, threshold=0.2)
    b = make_bundle(threshold=0.2, metrics={"pr_auc": 0.95, "pr_auc_low": 0.93, "pr_auc_high": 0.97})
    build_profile(ref.slice(0, 5000), b.schema).save(b.profile_path)
    _world(workspace, synth)
    result = run_monitor(workspace, "fraud", "1d", NOW, bundle=b)
    fresh = result.reference["realised_baseline"]
    assert fresh is not None and fresh["start"].startswith("2026-03-01") and fresh["low"] < 0.9
    assert not [e for e in result.events if e.evidence.get("source") == "realised"]
    early = run_monitor(workspace, "fraud", "1d", START + timedelta(days=16), bundle=b, write=False)
    assert early.reference["realised_baseline"] is None  # the first week's labels are not all in yet
