"""``run_monitor``: data drift, performance (realised + estimated, maturity) and stream detectors over the
latest windows of one model's prediction log, with a versioned report and events for what went wrong.

Windows end at ``now``: the latest is ``[now - window, now)``, the ``history`` before it step back by one
window each. Data drift is checked on the latest window against the bundle's reference profile;
performance on every window of the history; the stream detectors on the labelled predictions of the
matured windows (an immature window's labels are biased towards early chargebacks). Performance and the
stream use only the monitored bundle's model version (when known); data drift uses every row.

Everything that depends on what the model outputs follows its kind (:mod:`shopml.kinds`): the realised
metric family and the alert metric's direction, what a label is and what ``min_positives`` counts, the
stream's per-row error, and the output-drift checks (:mod:`shopml.monitor.drift.outputs`). Performance is
estimated before labels only for a kind that supports it (binary: calibrated scores); for the others the
output distribution is what moves first, and the report says so (``estimation``).

Alert rules: see :mod:`shopml.monitor.alerts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shopml.config import Settings, Workspace, load_settings
from shopml.journal.events import Event, EventStore
from shopml.logstore import LabelStore, PredictionLog, as_utc
from shopml.monitor.alerts import raise_alerts
from shopml.monitor.bundles import resolve_bundle
from shopml.monitor.drift.embedding import sample_drift
from shopml.monitor.drift.outputs import OutputCheck, output_drift
from shopml.monitor.drift.window import window_drift
from shopml.monitor.monitor_report import report_paths, write_reports
from shopml.monitor.performance.history import performance_history
from shopml.monitor.performance.measure import Measure
from shopml.monitor.performance.streaming import StreamResult, detect_stream
from shopml.monitor.performance.timing import parse_window
from shopml.monitor.performance.traffic import window_traffic
from shopml.monitor.performance.windows import WindowPerformance
from shopml.registry import ModelBundle
from shopml.text.drift import text_drift

__all__ = ["REPORT_VERSION", "MonitorResult", "parse_window", "run_monitor"]

REPORT_VERSION = 3  # 2: the latest window's "traffic" block; 3: "kind", "estimation", "output_drift"


@dataclass
class MonitorResult:
    """What one monitoring run found; ``to_dict`` is the versioned JSON report."""

    model: str
    model_version: int | None
    now: datetime
    window: timedelta
    reference: dict[str, Any]
    windows: list[WindowPerformance]
    drift: Any | None
    drift_note: str | None
    stream: list[StreamResult]
    log_end: datetime | None = None
    traffic: dict[str, Any] | None = None
    kind: str = "binary"
    lower_is_better: bool = False
    estimation: str | None = None
    output_drift: list[OutputCheck] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    json_path: Path | None = None
    html_path: Path | None = None

    @property
    def status(self) -> str:
        """``alert`` when a problem was found, ``insufficient_data`` when the latest window is empty."""
        if self.events:
            return "alert"
        return "insufficient_data" if not self.windows or self.windows[-1].rows == 0 else "ok"

    @property
    def alert(self) -> bool:
        """Whether drift or a performance problem was found in this run."""
        return bool(self.events)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (``version`` changes when its shape does)."""
        return {
            "version": REPORT_VERSION,
            "model": self.model,
            "model_version": self.model_version,
            "now": self.now.isoformat(),
            "window_seconds": self.window.total_seconds(),
            "status": self.status,
            "log_end": None if self.log_end is None else self.log_end.isoformat(),
            "kind": self.kind,
            "estimation": self.estimation,
            "reference": self.reference,
            "traffic": self.traffic,
            "performance": [w.to_dict() for w in self.windows],
            "drift": None if self.drift is None else self.drift.to_dict(),
            "drift_note": self.drift_note,
            "output_drift": [c.to_dict() for c in self.output_drift],
            "stream": [s.to_dict() for s in self.stream],
            "events": [e.model_dump(mode="json") for e in self.events],
        }


def _bound(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def _reference(bundle: ModelBundle, measure: Measure) -> dict[str, Any]:
    metric, metrics = measure.metric, bundle.meta.metrics
    worse = "high" if measure.lower_is_better else "low"  # the interval end an alert compares with
    for key in (metric, f"test_{metric}", f"val_{metric}", f"valid_{metric}"):
        value = metrics.get(key)
        if isinstance(value, int | float) and np.isfinite(value):
            return {
                "metric": metric,
                "value": float(value),
                worse: _bound(metrics, f"{key}_{worse}"),
                "source": f"bundle metrics['{key}']",
            }
    return {"metric": metric, "value": None, worse: None, "source": "none: the bundle records no such metric"}


def _covered(drift: Any | None) -> set[str]:
    """Outputs the data-drift report has judged already (its score test: the logged ``score``)."""
    prediction = getattr(drift, "prediction", None) if drift is not None else None
    return {"score"} if prediction is not None else set()


def run_monitor(
    workspace: Workspace | Path | str,
    model: str,
    window: str | timedelta = "1d",
    now: datetime | str | None = None,
    *,
    bundle: ModelBundle | Path | str | None = None,
    settings: Settings | None = None,
    history: int | None = None,
    write: bool = True,
    html: bool = True,
    cache: bool = True,
) -> MonitorResult:
    """Monitor ``model`` over the windows ending at ``now`` (default: wall-clock time); write the JSON
    report (and the HTML one when ``html``) under ``workspace/reports/monitor/`` and append alert events
    when ``write``. ``cache``: reuse this process's registry client, profiles and per-window results
    (same results, see :mod:`shopml.monitor.cache`)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    st = settings if settings is not None else load_settings(workspace=ws.root)
    cfg = st.performance
    span = window if isinstance(window, timedelta) else parse_window(window)
    at = as_utc(now) if now is not None else as_utc(datetime.now().astimezone())
    b = resolve_bundle(ws, model, bundle, st.mlflow_uri, cache=cache)
    log = PredictionLog(ws, model, time_column=b.meta.time_column)
    log.source()  # NotFoundError naming the folder when nothing was ever logged
    if b.version is not None and "model_version" in log.columns:  # performance: this version's rows only
        served = PredictionLog(ws, model, b.meta.time_column, con=log.con, version=b.version)
    else:
        served = log
    count = history if history is not None else cfg.history
    logged = log.span()
    first = logged.start
    bounds = [(at - (k + 1) * span, at - k * span) for k in reversed(range(count))]
    bounds = [bd for bd in bounds if first is not None and bd[1] > first] or bounds[-1:]
    measure = Measure.of(b, cfg.alert_metric)
    labels = LabelStore(ws, model, measure.kind.label.dtype)
    hist = performance_history(served, labels, b, bounds, at, cfg, st.seed, cache)
    drift, note = window_drift(log, b, *bounds[-1])
    stream = detect_stream(hist.errors, hist.times)
    reference = {
        **_reference(b, measure),
        "estimated_baseline": hist.estimated_baseline,
        "realised_baseline": hist.realised_baseline,
    }
    result = MonitorResult(
        model, b.version, at, span, reference, hist.windows, drift, note, stream, logged.end
    )
    result.traffic = window_traffic(log, *bounds[-1])
    result.kind, result.lower_is_better = measure.kind.name, measure.lower_is_better
    result.output_drift = [  # the kind's outputs, then the columns the bundle's reference sample names
        *output_drift(log, b, *bounds[-1], covered=_covered(drift)),
        *sample_drift(log, b, *bounds[-1]),
        *text_drift(log, b, *bounds[-1]),
    ]
    if not measure.kind.estimates_performance:
        result.estimation = (
            f"not estimated before labels: a {measure.kind.name} model's outputs carry no label"
            " distribution to draw from; output drift watches it until the labels mature"
        )
    if not write:
        return result
    store = EventStore(ws)
    old = store.read(kind=["drift", "performance"], model=model)
    seen = {str(e.evidence.get("key")) for e in old}
    last_stream = max(
        (str(e.evidence.get("detected_at")) for e in old if "detected_at" in e.evidence), default=""
    )
    result.json_path, html_path = report_paths(ws, result)
    result.html_path = html_path if html else None
    links = [str(p) for p in (result.json_path, result.html_path) if p is not None]
    result.events = [
        ev.model_copy(update={"links": links}) for ev in raise_alerts(result, cfg, seen, last_stream)
    ]
    write_reports(ws, result, cfg.min_maturity, cfg.level, measure.metric, html=html)
    store.extend(result.events)
    return result
