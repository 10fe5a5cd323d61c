"""The training report: one self-contained HTML file (Plotly inlined once, no network needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import numpy as np
import plotly.graph_objects as go
from jinja2 import Environment
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from shopml.train.metrics import METRICS
from shopml.train.summary import RunSummary

__all__ = ["ReportData", "render_report"]

MAX_POINTS = 400
TEMPLATE = "report.html.j2"


@dataclass
class ReportData(RunSummary):
    """What the report shows; filled by :func:`shopml.train.train`."""

    y_test: np.ndarray
    scores_test: np.ndarray
    baseline_test: np.ndarray
    rounds: dict[str, list[float]]
    learning: dict[str, list[float]]
    importance: dict[str, float]
    lineage: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    n = len(arrays[0])
    idx = np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).astype(int)) if n else np.arange(0)
    return [np.asarray(a)[idx] for a in arrays]


def _fig_html(fig: go.Figure, first: bool) -> str:
    fig.update_layout(height=380, margin={"l": 50, "r": 20, "t": 40, "b": 40}, template="plotly_white")
    html: str = fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False})
    return html


def _figures(d: ReportData) -> list[str]:
    figs: list[go.Figure] = []
    pr, roc, cal = go.Figure(), go.Figure(), go.Figure()
    for label, s in (("model", d.scores_test), ("logistic baseline", d.baseline_test)):
        p, r, _ = precision_recall_curve(d.y_test, s)
        r, p = _thin(r, p)
        pr.add_scatter(x=r, y=p, name=label, mode="lines")
        f, t, _ = roc_curve(d.y_test, s)
        f, t = _thin(f, t)
        roc.add_scatter(x=f, y=t, name=label, mode="lines")
        obs, pred = calibration_curve(d.y_test, s, n_bins=10, strategy="quantile")
        cal.add_scatter(x=pred, y=obs, name=label, mode="lines+markers")
    pr.update_layout(title="Precision–recall (test period)", xaxis_title="recall", yaxis_title="precision")
    roc.add_scatter(x=[0, 1], y=[0, 1], name="chance", mode="lines", line={"dash": "dot"})
    roc.update_layout(
        title="ROC (test period)", xaxis_title="false positive rate", yaxis_title="true positive rate"
    )
    top = float(max(np.max(d.scores_test), 1e-3))
    cal.add_scatter(x=[0, top], y=[0, top], name="perfect", mode="lines", line={"dash": "dot"})
    cal.update_layout(
        title="Calibration (test period, quantile bins)",
        xaxis_title="mean predicted",
        yaxis_title="observed rate",
    )
    figs += [pr, roc, cal]
    rounds = go.Figure()
    for part in ("train", "valid"):
        if d.rounds.get(part):
            rounds.add_scatter(
                y=d.rounds[part], x=list(range(1, len(d.rounds[part]) + 1)), name=part, mode="lines"
            )
    rounds.update_layout(
        title="Validation curve over boosting rounds (PR-AUC)", xaxis_title="round", yaxis_title="PR-AUC"
    )
    learn = go.Figure()
    for part in ("train", "valid"):
        learn.add_scatter(
            x=d.learning.get("sizes", []), y=d.learning.get(part, []), name=part, mode="lines+markers"
        )
    learn.update_layout(
        title="Learning curve (PR-AUC vs training rows)", xaxis_title="training rows", yaxis_title="PR-AUC"
    )
    top_imp = sorted(d.importance.items(), key=lambda kv: kv[1])[-20:]
    imp = go.Figure(go.Bar(x=[v for _, v in top_imp], y=[k for k, _ in top_imp], orientation="h"))
    imp.update_layout(title="Feature importance (XGBoost gain, top 20)")
    figs += [rounds, learn, imp]
    return [_fig_html(f, i == 0) for i, f in enumerate(figs)]


def render_report(d: ReportData, level: float = 0.95) -> str:
    """The report as one HTML string."""
    import json

    env = Environment(autoescape=True)
    env.filters["round"] = lambda v, n=4: round(float(v), n)
    template = env.from_string((files("shopml.train") / TEMPLATE).read_text(encoding="utf-8"))
    search_keys = list(d.search_table[0]) if d.search_table else []
    from markupsafe import Markup

    return template.render(
        d=d,
        level=level,
        metric_names=METRICS,
        figs=[Markup(f) for f in _figures(d)],
        search_keys=search_keys,
        split_json=json.dumps(d.split, indent=2, default=str),
        lineage_json=json.dumps({k: v for k, v in d.lineage.items() if k != "config"}, indent=2, default=str),
    )
