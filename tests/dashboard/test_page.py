import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopml.config import Workspace
from shopml.dashboard import (
    DashboardData,
    DaySeries,
    PolicySeries,
    TimelineItem,
    collect_dashboard,
    render_dashboard,
    write_dashboard,
)
from shopml.journal.events import Event, EventStore

T0 = datetime(2025, 4, 1, tzinfo=UTC)


def _report(ws: Workspace, day: int, realised: float | None, drifted: list[str]) -> None:
    start = T0 + timedelta(days=day)
    window = {
        "start": start.isoformat(),
        "end": (start + timedelta(days=1)).isoformat(),
        "rows": 100 + day,
        "maturity": 1.0 if realised is not None else 0.2,
        "matured": realised is not None,
        "realised": None if realised is None else {"pr_auc": {"value": realised, "low": 0.5, "high": 0.9}},
        "estimated": {"pr_auc": {"value": 0.6, "low": 0.4, "high": 0.8}},
    }
    drift = {"features": [{"name": n, "drifted": True} for n in drifted] + [{"name": "x", "drifted": False}]}
    folder = ws.reports_dir / "monitor"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (start + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    (folder / f"fraud-{stamp}.json").write_text(json.dumps({"performance": [window], "drift": drift}))


def test_collect_reads_events_reports_and_versions(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    store = EventStore(ws)
    store.append(
        Event(
            ts=T0 + timedelta(days=2),
            kind="drift",
            model="fraud",
            severity="warning",
            summary="data drift: country",
            links=["r.json", "r.html"],
        )
    )
    store.append(
        Event(
            ts=T0 + timedelta(days=3),
            kind="promotion",
            model="fraud",
            summary="v2 promoted",
            evidence={"version": 2, "previous": 1},
        )
    )
    store.append(Event(ts=T0 + timedelta(days=3), kind="drift", model="other", summary="not ours"))
    _report(ws, 0, 0.8, [])
    _report(ws, 1, None, ["country"])
    data = collect_dashboard(ws, "fraud", initial_champion=(1, T0.isoformat()))
    assert [t.kind for t in data.timeline] == ["drift", "promotion"]
    assert data.timeline[0].link == "r.html"
    assert [(v.version, v.end is None) for v in data.versions] == [(1, False), (2, True)]
    assert [d.realised for d in data.days] == [0.8, None]
    assert data.days[1].drifted_features == ["country"]


def test_render_is_self_contained_and_shows_everything(tmp_path: Path) -> None:
    days = [(T0 + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(5)]
    data = DashboardData(
        model="fraud",
        scenario="sudden_covariate",
        drift_onset=(T0 + timedelta(days=2)).isoformat(),
        timeline=[
            TimelineItem(ts=T0.isoformat(), kind="gate", severity="warning", summary="gate reject <v2>")
        ],
        days=[DaySeries(start=d, rows=10, maturity=0.5, realised=0.7) for d in days],
        policies=[
            PolicySeries(name="never retrain", days=days, pr_auc=[0.7, 0.6, None, 0.4, 0.4], cost=[1.0] * 5)
        ],
        outcomes={"detection (days after onset)": 1.0},
    )
    html = render_dashboard(data)
    assert html.count("<div") >= 4 and "plotly" in html.lower()
    assert '<script src="http' not in html  # plotly.js is inlined, the page works offline
    assert "gate reject &lt;v2&gt;" in html  # escaped
    assert "detection (days after onset)" in html and "never retrain" in html
    out = write_dashboard(data, tmp_path / "sub" / "d.html")
    assert out.read_text(encoding="utf-8") == html


def test_cli_writes_the_page(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shopml.cli.main import app

    ws = Workspace(tmp_path / "ws").ensure()
    EventStore(ws).append(Event(ts=T0, kind="drift", model="fraud", severity="warning", summary="x"))
    res = CliRunner().invoke(
        app, ["dashboard", "--workspace", str(ws.root), "--out", str(tmp_path / "d.html")]
    )
    assert res.exit_code == 0, res.output
    assert "1 events" in res.output and (tmp_path / "d.html").read_text(encoding="utf-8").count("<tr>") >= 2
