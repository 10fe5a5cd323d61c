"""Assemble :class:`DashboardData` from what the workspace already holds: the event store, the monitor's
JSON reports and the gate reports. Nothing is recomputed here; values are read as the parts wrote them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopml.config import Workspace
from shopml.dashboard.data import DashboardData, DaySeries, TimelineItem, VersionSpan
from shopml.journal.events import EventStore

__all__ = ["collect_dashboard"]


def _interval(block: dict[str, Any] | None, metric: str) -> tuple[float | None, float | None, float | None]:
    if not block or metric not in block or block[metric] is None:
        return None, None, None
    iv = block[metric]
    return iv.get("value"), iv.get("low"), iv.get("high")


def _reported_metric(folder: Path, model: str) -> str:
    """The metric the newest monitor report measured the model on (``pr_auc`` when there is none)."""
    reports = sorted(folder.glob(f"{model}-*.json"))
    if not reports:
        return "pr_auc"
    reference = json.loads(reports[-1].read_text(encoding="utf-8")).get("reference") or {}
    return str(reference.get("metric") or "pr_auc")


def _monitor_days(folder: Path, model: str, metric: str) -> list[DaySeries]:
    """Latest knowledge per window: realised values from the newest report that covers the window,
    the estimate and the drift verdict from the report in which the window was the latest one."""
    days: dict[str, DaySeries] = {}
    for path in sorted(folder.glob(f"{model}-*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        windows = report.get("performance") or []
        for i, w in enumerate(windows):
            day = days.setdefault(w["start"], DaySeries(start=w["start"], rows=w["rows"], maturity=0.0))
            if w["rows"]:  # a later report on a newer champion version counts none of this window's rows
                day.rows, day.maturity = w["rows"], w["maturity"]
            if w.get("matured"):
                day.realised, day.realised_lo, day.realised_hi = _interval(w.get("realised"), metric)
            if i == len(windows) - 1:
                day.estimated, day.estimated_lo, day.estimated_hi = _interval(w.get("estimated"), metric)
                drift = report.get("drift") or {}
                day.drifted_features = [f["name"] for f in drift.get("features", []) if f.get("drifted")]
                traffic = report.get("traffic") or {}
                day.latency_p50_ms = traffic.get("latency_p50_ms")
                day.latency_p99_ms = traffic.get("latency_p99_ms")
    return [days[k] for k in sorted(days)]


def _versions(events: list[Any], initial: tuple[int, str] | None) -> list[VersionSpan]:
    spans: list[VersionSpan] = []
    if initial is not None:
        spans.append(VersionSpan(version=initial[0], start=initial[1], end=None))
    for e in events:
        if e.kind not in ("promotion", "rollback"):
            continue
        to = e.evidence.get("version")  # the champion afterwards, for both kinds (ChampionEvidence)
        if to is None:
            continue
        ts = e.ts.isoformat()
        if spans and spans[-1].end is None:
            spans[-1] = VersionSpan(version=spans[-1].version, start=spans[-1].start, end=ts)
        spans.append(VersionSpan(version=int(to), start=ts, end=None))
    return spans


def collect_dashboard(
    workspace: Workspace | Path | str,
    model: str,
    *,
    metric: str | None = None,
    initial_champion: tuple[int, str] | None = None,
) -> DashboardData:
    """Read the workspace's events and reports for ``model`` into :class:`DashboardData`; ``metric``
    defaults to the one the monitor reports measured (the model kind's primary metric: PR-AUC,
    macro-F1, MAE)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    metric = metric or _reported_metric(ws.reports_dir / "monitor", model)
    events = sorted(EventStore(ws).read(model=model), key=lambda e: e.ts)
    timeline = [
        TimelineItem(
            ts=e.ts.isoformat(),
            kind=e.kind,
            severity=e.severity,
            summary=e.summary,
            link=next((ln for ln in e.links if ln.endswith(".html")), None),
        )
        for e in events
    ]
    gates = []
    for path in sorted((ws.reports_dir / "gate").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("model") in (model, "", None):
            gates.append({**data, "html": str(path.with_suffix(".html"))})
    return DashboardData(
        model=model,
        metric=metric,
        timeline=timeline,
        versions=_versions(events, initial_champion),
        days=_monitor_days(ws.reports_dir / "monitor", model, metric),
        gates=gates,
    )
