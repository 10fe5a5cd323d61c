"""``run_monitor``: data drift, performance (realised + estimated, maturity) and stream detectors over the
latest windows of one model's prediction log, with a versioned report and events for what went wrong.

Windows end at ``now``: the latest is ``[now - window, now)``, the ``history`` before it step back by one
window each. Data drift is checked on the latest window against the bundle's reference profile;
performance on every window of the history; the stream detectors on the labelled predictions of the
matured windows (an immature window's labels are biased towards early chargebacks). Performance and the
stream use only the monitored bundle's model version (when known); data drift uses every row.

Alert rules: see :mod:`shopml.monitor.alerts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopml.blocks import time_blocks
from shopml.config import Settings, Workspace, load_settings
from shopml.config.settings import PerformanceSettings
from shopml.errors import ConfigError, DataError
from shopml.journal.events import Event, EventStore
from shopml.monitor.alerts import raise_alerts
from shopml.monitor.bundles import resolve_bundle
from shopml.monitor.cache import WINDOWS, bootstrap_weights, digest
from shopml.monitor.drift.window import window_drift
from shopml.monitor.labels import LabelStore
from shopml.monitor.monitor_report import report_paths, write_reports
from shopml.monitor.performance.estimate import estimate_performance
from shopml.monitor.performance.metrics import Costs
from shopml.monitor.performance.streaming import StreamResult, detect_stream
from shopml.monitor.performance.traffic import window_traffic
from shopml.monitor.performance.windows import (
    WindowData,
    WindowPerformance,
    assemble,
    estimated_part,
    estimated_pool,
    realised_part,
    realised_performance,
    realised_pool,
)
from shopml.monitor.predlog import PredictionLog, as_utc
from shopml.registry import ModelBundle

__all__ = ["REPORT_VERSION", "MonitorResult", "parse_window", "run_monitor"]

REPORT_VERSION = 2  # 2: the latest window's "traffic" block
_WINDOW = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_window(text: str) -> timedelta:
    """``"1d"`` → one day; ``h``, ``d`` and ``w`` units.

    >>> parse_window("12h")
    datetime.timedelta(seconds=43200)
    """
    m = _WINDOW.match(text.strip())
    if not m or int(m.group(1)) == 0:
        raise ConfigError(f"window must look like 1d, 12h or 2w, got {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


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
            "reference": self.reference,
            "traffic": self.traffic,
            "performance": [w.to_dict() for w in self.windows],
            "drift": None if self.drift is None else self.drift.to_dict(),
            "drift_note": self.drift_note,
            "stream": [s.to_dict() for s in self.stream],
            "events": [e.model_dump(mode="json") for e in self.events],
        }


def _reference(bundle: ModelBundle, metric: str) -> dict[str, Any]:
    metrics = bundle.meta.metrics
    for key in (metric, f"test_{metric}", f"val_{metric}", f"valid_{metric}"):
        value = metrics.get(key)
        if isinstance(value, int | float) and np.isfinite(value):
            low = metrics.get(f"{key}_low")
            return {
                "metric": metric,
                "value": float(value),
                "low": float(low) if isinstance(low, int | float) and np.isfinite(low) else None,
                "source": f"bundle metrics['{key}']",
            }
    return {"metric": metric, "value": None, "low": None, "source": "none: the bundle records no such metric"}


def _window_rng(seed: int, start: datetime, purpose: int) -> np.random.Generator:
    """A generator of its own per window (and purpose), so a window's numbers do not depend on which
    other windows the same run evaluates: what makes per-window results cacheable across runs."""
    return np.random.default_rng([seed, int(start.timestamp()), purpose])


def _evaluate(
    data: list[WindowData], cfg: PerformanceSettings, seed: int, weights: np.ndarray, cache: bool
) -> list[WindowPerformance]:
    """Each window's estimated and realised metrics on its pool span (it and its ``max_pool - 1``
    predecessors), each with a generator of its own. Cached by a digest of every input: the estimate's
    inputs (scores, decisions) never change, the realised metrics' change while labels trickle in."""
    setup = cfg.model_dump_json()
    out: list[WindowPerformance] = []
    for i, w in enumerate(data):
        span = data[max(0, i - cfg.max_pool + 1) : i + 1]
        last = len(span) - 1
        # keyed by the pool actually used: a window keeps its result when the history slides on
        pool = estimated_pool(span, last, cfg) if cache else None
        key = pool and digest(
            "estimated",
            setup,
            seed,
            [(d.start, d.end) for d in pool],
            *[a for d in pool for a in (d.scores, d.decisions)],
        )
        est = WINDOWS.get(key) if key else None
        if est is None:
            est = estimated_part(span, last, cfg, _window_rng(seed, w.start, 1))
            if key:
                WINDOWS.put(key, est)
        pool = realised_pool(span, last, cfg) if cache and span[-1].rows else None
        key = pool and digest(
            "realised",
            setup,
            seed,
            weights.shape,
            [(d.start, d.end, d.counts) for d in pool],
            *[a for d in pool for a in (d.scores, d.decisions, d.labels, d.blocks)],
        )
        real = WINDOWS.get(key) if key else None
        if real is None:
            real = realised_part(span, last, cfg, _window_rng(seed, w.start, 3), weights)
            if key:
                WINDOWS.put(key, real)
        out.append(assemble(w, cfg, est, real))
    return out


def _performance(
    log: PredictionLog,
    labels: LabelStore,
    bundle: ModelBundle,
    bounds: list[tuple[datetime, datetime]],
    now: datetime,
    cfg: PerformanceSettings,
    seed: int,
    cache: bool = True,
) -> tuple[list[WindowPerformance], np.ndarray, np.ndarray, dict[str, Any] | None, dict[str, Any] | None]:
    target = bundle.meta.target
    if not target:
        raise DataError(
            f"model '{bundle.name}' has no target column in its bundle: no performance to monitor"
        )
    data: list[WindowData] = []
    stamps: list[np.ndarray] = []
    table = labels.materialise(log, target, bundle.meta.id_column, bounds[0][0], bounds[-1][1], now)
    block_s = parse_window(cfg.block).total_seconds()
    for start, end in bounds:
        t = labels.window(log, table, start, end)
        keep = np.arange(t.num_rows)
        if t.num_rows > cfg.max_rows:  # bounded: a uniform sample (exact counts kept)
            keep = np.sort(_window_rng(seed, start, 0).choice(t.num_rows, cfg.max_rows, replace=False))
        score = t.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
        decision = t.column("decision").to_numpy(zero_copy_only=False).astype(np.float64)
        label = t.column("label").cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        counts = (t.num_rows, int((~np.isnan(label)).sum()), int(np.nansum(label)))
        stamp = t.column("__time").to_numpy()[keep]
        blocks = time_blocks(stamp, block_s)
        data.append(WindowData(start, end, score[keep], decision[keep], label[keep], counts, blocks))
        stamps.append(stamp)
    weights = bootstrap_weights(seed, cfg.n_bootstrap, cfg.max_rows)  # shared draws, once per process
    out = _evaluate(data, cfg, seed, weights, cache)
    errors: list[np.ndarray] = []
    times: list[np.ndarray] = []
    for w, d, ts in zip(out, data, stamps, strict=True):
        if w.matured:  # the error stream, thinned uniformly to ``stream_rows`` per window (order kept)
            known = np.flatnonzero(~np.isnan(d.labels))
            if known.size > cfg.stream_rows:
                known = np.sort(_window_rng(seed, d.start, 2).choice(known, cfg.stream_rows, replace=False))
            errors.append((d.decisions[known] != d.labels[known]).astype(np.float64))
            times.append(ts[known])
    stream = np.concatenate(errors) if errors else np.empty(0)
    span = bounds[-1][1] - bounds[-1][0]
    base = _baseline(log, out[-1], data, span, cfg, seed)
    fresh = _realised_baseline(log, labels, bundle, span, now, cfg, seed)
    return out, stream, (np.concatenate(times) if times else np.empty(0, "datetime64[us]")), base, fresh


def _realised_baseline(
    log: PredictionLog,
    labels: LabelStore,
    bundle: ModelBundle,
    span: timedelta,
    now: datetime,
    cfg: PerformanceSettings,
    seed: int,
) -> dict[str, Any] | None:
    """Realised ``alert_metric`` over this version's first ``max_pool`` windows in production, once they
    have matured, with its hour-block interval: what the model showed when fresh, measured the way later
    windows are. ``None`` until then (or without ``min_positives`` labelled positives)."""
    first = log.span().start
    if first is None or bundle.meta.target is None:
        return None
    end = first + cfg.max_pool * span
    if end > now:
        return None
    table = labels.materialise(log, bundle.meta.target, bundle.meta.id_column, first, end, now)
    t = labels.window(log, table, first, end)
    label = t.column("label").cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    known = ~np.isnan(label)
    if not t.num_rows or known.mean() < cfg.min_maturity or np.nansum(label) < cfg.min_positives:
        return None
    keep = np.flatnonzero(known)
    if keep.size > cfg.max_rows:  # bounded like every window: a uniform, seeded sample
        keep = np.sort(np.random.default_rng([seed, 4]).choice(keep, cfg.max_rows, replace=False))
    score = t.column("score").to_numpy(zero_copy_only=False).astype(np.float64)[keep]
    decision = t.column("decision").to_numpy(zero_copy_only=False).astype(np.float64)[keep]
    blocks = time_blocks(t.column("__time").to_numpy()[keep], parse_window(cfg.block).total_seconds())
    costs = Costs(cfg.cost_false_positive, cfg.cost_false_negative)
    m = realised_performance(
        score,
        decision,
        label[keep],
        costs=costs,
        n_bootstrap=cfg.n_bootstrap,
        level=cfg.confidence,
        rng=np.random.default_rng(seed),
        blocks=blocks,
    )[cfg.alert_metric]
    return {
        "value": m.value,
        "low": m.low,
        "start": first.isoformat(),
        "end": end.isoformat(),
        "positives": int(np.nansum(label)),
    }


def _baseline(
    log: PredictionLog,
    latest: WindowPerformance,
    data: list[WindowData],
    span: timedelta,
    cfg: PerformanceSettings,
    seed: int,
) -> dict[str, Any] | None:
    """CBPE on the first ``max_pool`` windows after this version's first prediction, on as many rows as
    the latest estimate used: the level the estimate had when the model was fresh (same size, same bias),
    with its hour-block interval (``low``): a week of bursty fraud is one noisy sample too."""
    first = log.span().start
    if first is None or latest.estimated_from is None:
        return None
    end = first + cfg.max_pool * span
    if latest.estimated_from < end:
        return None  # the latest estimate still overlaps the baseline period
    rows = min(cfg.max_rows, sum(int(d.scores.size) for d in data if d.start >= latest.estimated_from))
    t = log.read(first, end, ["score", "decision", "__time"])
    if t.num_rows < max(rows, cfg.min_rows):
        return None
    rng = np.random.default_rng(seed)
    s = t.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
    d = t.column("decision").to_numpy(zero_copy_only=False).astype(np.float64)
    b = time_blocks(t.column("__time").to_numpy(), parse_window(cfg.block).total_seconds())
    order = np.lexsort((b, d, s))  # DuckDB's row order may vary between runs; the sample must not
    idx = order[rng.choice(t.num_rows, rows, replace=False)]
    s, d, b = s[idx], d[idx], b[idx]
    costs = Costs(cfg.cost_false_positive, cfg.cost_false_negative)
    est = estimate_performance(
        s, d, costs=costs, n_samples=cfg.n_bootstrap, level=cfg.confidence, rng=rng, blocks=b
    )
    return {
        "value": est[cfg.alert_metric].value,
        "low": est[cfg.alert_metric].low,
        "start": first.isoformat(),
        "end": end.isoformat(),
        "rows": rows,
    }


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
    labels = LabelStore(ws, model)
    windows, errors, times, base, fresh = _performance(served, labels, b, bounds, at, cfg, st.seed, cache)
    drift, note = window_drift(log, b, *bounds[-1])
    stream = detect_stream(errors, times)
    reference = {**_reference(b, cfg.alert_metric), "estimated_baseline": base, "realised_baseline": fresh}
    result = MonitorResult(model, b.version, at, span, reference, windows, drift, note, stream, logged.end)
    result.traffic = window_traffic(log, *bounds[-1])
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
    write_reports(ws, result, cfg.min_maturity, cfg.confidence, cfg.alert_metric, html=html)
    store.extend(result.events)
    return result
