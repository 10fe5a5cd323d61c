"""The monitoring report: versioned JSON plus one HTML page (Plotly from a shared local file).

Written as ``workspace/reports/monitor/<model>-<now>.json|.html``; the page shows performance over
time (realised with bootstrap intervals on matured windows, estimated with its interval everywhere, the
reference level), label maturity per window, the stream detectors' alarms, the events raised, and the
data-drift report of the latest window.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import plotly
import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from shopml.config import Workspace
from shopml.kinds import get_kind
from shopml.monitor.performance.metrics import METRICS
from shopml.monitor.performance.windows import WindowPerformance

if TYPE_CHECKING:
    from shopml.monitor.job import MonitorResult

__all__ = ["PLOTLY_FILE", "plotly_file", "render_html", "report_paths", "write_reports"]

PLOTLY_FILE = "plotly.min.js"

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
{% if plotly_src %}<script type="text/javascript" src="{{ plotly_src }}"></script>
{% else %}<script type="text/javascript">{{ plotlyjs|safe }}</script>{% endif %}
<style>{{ drift_style|safe }}</style>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right} th{background:#f3f3f3} td.l{text-align:left}
.alert,.critical{color:#b00020;font-weight:bold} .ok,.info{color:#2e7d32}
.warning,.insufficient_data{color:#b26a00} section.drift-report{border-top:2px solid #ccc;margin-top:2em}
</style></head><body>
<h1>{{ title }}</h1>
<p>Status: <span class="{{ r.status }}">{{ r.status }}</span> — model <b>{{ r.model }}</b>
version {{ r.model_version if r.model_version is not none else "?" }}, windows of {{ window }} ending
{{ r.now.isoformat() }}. Reference {{ ref.metric }}: {{ fmt(ref.value) }} ({{ ref.source }}).</p>
<h2>Events raised</h2>
{% if r.events %}<ul>{% for e in r.events %}<li class="{{ e.severity }}">[{{ e.severity }}] {{ e.kind }}:
{{ e.summary }}</li>{% endfor %}</ul>{% else %}<p class="ok">None.</p>{% endif %}
<h2>Performance over time</h2>
<p>Realised metrics only on matured windows (label maturity ≥ {{ "%.0f"|format(100*min_maturity) }}%), with
{{ "%.0f"|format(100*level) }}% bootstrap intervals (resampling time blocks, not rows: frauds come in
bursts); estimated metrics (CBPE: labels drawn from the calibrated
scores) on every window, with {{ "%.0f"|format(100*level) }}% intervals.</p>
{{ perf_plot|safe }}
<table><tr><th>window start</th><th>rows</th><th>labelled</th><th>maturity</th>
{% for m in metrics %}<th>{{ m }} realised</th><th>{{ m }} estimated</th>{% endfor %}<th>notes</th></tr>
{% for w in r.windows|reverse %}<tr><td class="l">{{ w.start.strftime("%Y-%m-%d %H:%M") }}</td>
<td>{{ w.rows }}</td>
<td>{{ w.labelled }}</td><td>{{ "%.1f"|format(100*w.maturity) }}%</td>
{% for m in metrics %}<td>{{ iv(w.realised, m) }}</td><td>{{ iv(w.estimated, m) }}</td>{% endfor %}
<td class="l">{{ pools(w) }}{{ w.notes|join("; ") }}</td></tr>{% endfor %}</table>
<h2>Error stream (River detectors)</h2>
<table><tr><th>detector</th><th>labelled predictions</th><th>error rate</th><th>warnings</th>
<th>drifts</th></tr>
{% for s in r.stream %}<tr><td class="l">{{ s.detector }}</td><td>{{ s.n }}</td>
<td>{{ fmt(s.error_rate) }}</td>
<td class="l">{{ alarms(s.warnings) }}</td><td class="l">{{ alarms(s.drifts) }}</td></tr>{% endfor %}</table>
<section class="drift-report"><h2>Data drift, latest window</h2>
{% if drift_body %}{{ drift_body|safe }}
{% else %}<p class="insufficient_data">{{ r.drift_note }}</p>{% endif %}
</section></body></html>"""


def _fmt(v: float | None) -> str:
    return "–" if v is None or v != v else f"{v:.4f}"


def _interval(block: dict[str, object] | None, metric: str) -> str:
    if not block or metric not in block:
        return "–"
    i = block[metric]
    return f"{_fmt(i.value)} [{_fmt(i.low)}, {_fmt(i.high)}]"  # type: ignore[attr-defined]


def _pools(w: WindowPerformance) -> str:
    parts = [
        f"{name} pooled from {start:%Y-%m-%d %H:%M}; "
        for name, start in (("realised", w.realised_from), ("estimated", w.estimated_from))
        if start and start < w.start
    ]
    return "".join(parts)


def _alarms(items: list[object]) -> str:
    return ", ".join(f"{a.time:%Y-%m-%d %H:%M}" if a.time else f"#{a.index}" for a in items) or "–"  # type: ignore[attr-defined]


def _performance_plot(result: MonitorResult, metric: str) -> str:
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.06,
        subplot_titles=(metric, "label maturity"),
    )
    mids = [w.start + (w.end - w.start) / 2 for w in result.windows]
    for source, color in (("estimated", "#1f77b4"), ("realised", "#d62728")):
        xs, ys, lo, hi = [], [], [], []
        for x, w in zip(mids, result.windows, strict=True):
            block = getattr(w, source)
            if block and metric in block and block[metric].value == block[metric].value:
                xs.append(x)
                ys.append(block[metric].value)
                lo.append(block[metric].value - block[metric].low)
                hi.append(block[metric].high - block[metric].value)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=source,
                mode="lines+markers",
                line={"color": color},
                error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
            ),
            row=1,
            col=1,
        )
    ref = result.reference.get("value")
    if ref is not None:
        fig.add_hline(y=ref, line_dash="dash", line_color="gray", annotation_text="reference", row=1, col=1)
    fig.add_trace(
        go.Bar(x=mids, y=[w.maturity for w in result.windows], name="maturity", marker_color="#7f7f7f"),
        row=2,
        col=1,
    )
    fig.update_yaxes(range=[0, 1.02], row=2, col=1)
    fig.update_layout(height=520, margin={"l": 40, "r": 20, "t": 40, "b": 30})
    html: str = fig.to_html(full_html=False, include_plotlyjs=False)
    return html


def _drift_parts(result: MonitorResult) -> tuple[str, str]:
    """The drift report page's body and style, to embed (its Plotly script is already on this page)."""
    if result.drift is None:
        return "", ""
    page: str = result.drift.to_html(title=f"data drift: {result.model}")
    body = re.search(r"<body>(.*)</body>", page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    return (body.group(1) if body else page), (style.group(1) if style else "")


def _metrics(result: MonitorResult) -> tuple[str, ...]:
    """The metric columns: what a binary model's score engine measures, else the kind's family."""
    kind = get_kind(result.kind)
    return METRICS if kind.estimates_performance else tuple(kind.metrics)


def render_html(
    result: MonitorResult, min_maturity: float, level: float, metric: str, plotly_src: str | None = None
) -> str:
    """The monitoring page; Plotly inlined, or loaded from ``plotly_src`` (a path next to the page)."""
    body, style = _drift_parts(result)
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(_TEMPLATE).render(
        title=f"shopml monitor: {result.model}",
        r=result,
        ref=result.reference,
        window=str(result.window),
        metrics=_metrics(result),
        min_maturity=min_maturity,
        level=level,
        plotlyjs="" if plotly_src else get_plotlyjs(),
        plotly_src=plotly_src,
        perf_plot=_performance_plot(result, metric),
        drift_body=body,
        drift_style=style,
        fmt=_fmt,
        iv=_interval,
        alarms=_alarms,
        pools=_pools,
    )


def report_paths(workspace: Workspace, result: MonitorResult) -> tuple[Path, Path]:
    """``reports/monitor/<model>-<now>.json`` and ``.html``."""
    folder = workspace.reports_dir / "monitor"
    stem = f"{result.model}-{result.now:%Y%m%dT%H%M%SZ}"
    return folder / f"{stem}.json", folder / f"{stem}.html"


def write_reports(
    workspace: Workspace,
    result: MonitorResult,
    min_maturity: float = 0.95,
    level: float = 0.9,
    metric: str = "pr_auc",
    *,
    html: bool = True,
) -> tuple[Path, Path | None]:
    """Write the JSON report and, when ``html``, the HTML one (see :func:`report_paths`): Plotly is
    loaded from ``plotly.min.js`` in the same folder (written once), so the page opens offline as long
    as it stays next to that file. Returns both paths (``None`` for the HTML when not written)."""
    json_path, html_path = report_paths(workspace, result)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result.to_dict(), indent=2, default=str), encoding="utf-8")
    if not html:
        return json_path, None
    shared = plotly_file(json_path.parent)
    html_path.write_text(render_html(result, min_maturity, level, metric, shared.name), encoding="utf-8")
    return json_path, html_path


def plotly_file(folder: Path) -> Path:
    """``folder/plotly.min.js`` holding this Plotly version's script (written atomically when missing
    or stale)."""
    path = folder / PLOTLY_FILE
    stamp = f"/* plotly.py {plotly.__version__} */\n"
    try:
        with path.open("r", encoding="utf-8") as fh:
            if fh.readline() == stamp:
                return path
    except OSError:
        pass
    tmp = folder / f".{PLOTLY_FILE}.{os.getpid()}.tmp"
    tmp.write_text(stamp + get_plotlyjs(), encoding="utf-8")
    os.replace(tmp, path)
    return path
