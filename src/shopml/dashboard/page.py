"""Render :class:`DashboardData` as one self-contained HTML page (Plotly inlined once, no network)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.subplots import make_subplots

from shopml.dashboard.data import DashboardData

__all__ = ["render_dashboard", "write_dashboard"]

_TEMPLATE = "page.html.j2"


def _onset(fig: go.Figure, data: DashboardData) -> None:
    if data.drift_onset:
        fig.add_vline(x=data.drift_onset, line_dash="dash", line_color="crimson")
        fig.add_annotation(x=data.drift_onset, y=1, yref="paper", text="drift onset", showarrow=False)


def _policy_figures(data: DashboardData) -> list[go.Figure]:
    if not data.policies:
        return []
    perf, cost = go.Figure(), go.Figure()
    for p in data.policies:
        perf.add_scatter(x=p.days, y=p.pr_auc, mode="lines+markers", name=p.name)
        running, total = [], 0.0
        for c in p.cost:
            total += c
            running.append(total)
        cost.add_scatter(x=p.days, y=running, mode="lines", name=p.name)
        if p.retrains:
            perf.add_scatter(
                x=p.retrains,
                y=[0.02] * len(p.retrains),
                mode="markers",
                name=f"{p.name}: promotions",
                marker={"symbol": "triangle-up", "size": 10},
            )
    perf.update_layout(title="PR-AUC per day by retraining policy", yaxis={"range": [0, 1]})
    cost.update_layout(title="Cumulative expected fraud cost by policy", yaxis_title="cost")
    for fig in (perf, cost):
        _onset(fig, data)
    return [perf, cost]


def _monitor_figure(data: DashboardData) -> go.Figure | None:
    if not data.days:
        return None
    x = [d.start for d in data.days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=x, y=[d.maturity for d in data.days], name="label maturity", opacity=0.25, secondary_y=True)

    def band(vals: list[float | None], lo: list[float | None], hi: list[float | None]) -> dict[str, Any]:
        plus = [None if v is None or h is None else h - v for v, h in zip(vals, hi, strict=True)]
        minus = [None if v is None or lo_ is None else v - lo_ for v, lo_ in zip(vals, lo, strict=True)]
        return {"type": "data", "array": plus, "arrayminus": minus, "visible": True}

    for label, attr in (("realised (matured labels)", "realised"), ("estimated before labels", "estimated")):
        vals = [getattr(d, attr) for d in data.days]
        fig.add_scatter(
            x=x,
            y=vals,
            mode="markers+lines",
            name=label,
            error_y=band(
                vals,
                [getattr(d, attr + "_lo") for d in data.days],
                [getattr(d, attr + "_hi") for d in data.days],
            ),
            secondary_y=False,
        )
    name = {"pr_auc": "PR-AUC", "macro_f1": "macro-F1", "mae": "MAE"}.get(data.metric, data.metric)
    fig.update_layout(title=f"Monitored {name} per window with intervals, and label maturity")
    if data.metric != "mae":  # a score in [0, 1]; an error has the target's scale
        fig.update_yaxes(range=[0, 1], secondary_y=False)
    fig.update_yaxes(range=[0, 1], title_text="maturity", secondary_y=True)
    _onset(fig, data)
    return fig


def _traffic_figure(data: DashboardData) -> go.Figure | None:
    if not data.days:
        return None
    x = [d.start for d in data.days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=x, y=[d.rows for d in data.days], name="predictions", opacity=0.4)
    if any(d.latency_p50_ms is not None for d in data.days):
        for q in ("p50", "p99"):
            fig.add_scatter(
                x=x,
                y=[getattr(d, f"latency_{q}_ms") for d in data.days],
                name=f"latency {q} (ms)",
                mode="lines+markers",
                secondary_y=True,
            )
    fig.update_layout(title="Traffic and latency per window")
    return fig


def _version_figure(data: DashboardData) -> go.Figure | None:
    if not data.versions:
        return None
    fig = go.Figure()
    xs, ys = [], []
    end = data.days[-1].start if data.days else None
    for span in data.versions:
        xs += [span.start, span.end or end or span.start]
        ys += [span.version, span.version]
    fig.add_scatter(x=xs, y=ys, mode="lines+markers", line_shape="hv", name="champion version")
    fig.update_layout(title="Champion model version over time", yaxis={"dtick": 1})
    _onset(fig, data)
    return fig


def render_dashboard(data: DashboardData) -> str:
    """The page as HTML text."""
    figures = [*_policy_figures(data)]
    for make in (_monitor_figure, _version_figure, _traffic_figure):
        fig = make(data)
        if fig is not None:
            figures.append(fig)
    divs = []
    for i, fig in enumerate(figures):
        fig.update_layout(template="plotly_white", height=360, margin={"t": 50, "b": 40, "l": 50, "r": 20})
        divs.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"plot-{i}"))
    env = Environment(autoescape=select_autoescape(["html", "j2"]))
    template = env.from_string(resources.files("shopml.dashboard").joinpath(_TEMPLATE).read_text("utf-8"))
    return template.render(d=data, plots=divs)


def write_dashboard(data: DashboardData, path: str | Path) -> Path:
    """Write the page to ``path`` (folders created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_dashboard(data), encoding="utf-8")
    return out
