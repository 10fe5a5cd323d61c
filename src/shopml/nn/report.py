"""The HTML section of a guarded training run: learning curves, per-layer gradient norms and both
diagnoses, as Plotly figures (Plotly inlined once per page: pass ``include_plotlyjs=False`` for the
second and later sections of a page)."""

from __future__ import annotations

from html import escape
from typing import Any

from shopml.nn.fitcheck import FitResult

__all__ = ["figure_html", "report_section"]


def figure_html(fig: Any, include_plotlyjs: bool | str = False, height: int = 360) -> str:
    """One Plotly figure as an HTML fragment (white template, no logo)."""
    fig.update_layout(height=height, margin={"l": 55, "r": 20, "t": 40, "b": 40}, template="plotly_white")
    html: str = fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, config={"displaylogo": False})
    return html


def _curves(result: FitResult) -> list[Any]:
    import plotly.graph_objects as go

    epochs = [h["epoch"] for h in result.history]
    loss = go.Figure()
    for key, name in (("train_loss", "training loss"), ("valid_loss", "validation loss")):
        if any(key in h for h in result.history):
            loss.add_scatter(x=epochs, y=result.curve(key), name=name, mode="lines+markers")
    loss.update_layout(title="Learning curves: loss", xaxis_title="epoch", yaxis_title="loss")
    figs = [loss]
    if any("valid_metric" in h for h in result.history):
        m = go.Figure()
        for key, name in (("train_metric", "training"), ("valid_metric", "validation")):
            if any(key in h for h in result.history):
                m.add_scatter(x=epochs, y=result.curve(key), name=name, mode="lines+markers")
        m.add_vline(x=result.best_epoch, line_dash="dot", annotation_text="best (restored)")
        m.update_layout(
            title=f"Learning curves: {result.config.metric_name}",
            xaxis_title="epoch",
            yaxis_title=result.config.metric_name,
        )
        figs.append(m)
    return figs


def _gradients(result: FitResult) -> Any:
    import plotly.graph_objects as go

    log = result.gradients
    fig = go.Figure()
    for name, values in log.layers.items():
        fig.add_scatter(x=log.steps, y=values, name=name, mode="lines")
    fig.add_scatter(x=log.steps, y=log.total, name="total", mode="lines", line={"dash": "dash", "width": 3})
    if result.config.clip_norm is not None:
        fig.add_hline(y=result.config.clip_norm, line_dash="dot", annotation_text="clip norm")
    fig.update_layout(
        title=f"Gradient norm per layer (before clipping, every {log.every} steps)",
        xaxis_title="step",
        yaxis_title="L2 norm",
        yaxis_type="log",
    )
    return fig


def report_section(result: FitResult, title: str = "Training", include_plotlyjs: bool | str = True) -> str:
    """The section: a summary line, the diagnoses, learning curves and gradient norms."""
    g = result.gradient_diagnosis
    parts = [
        f"<h2>{escape(title)}</h2>",
        f"<p>{escape(result.summary().splitlines()[0])}</p>",
        f"<h3>Gradients: {escape(g.verdict)}</h3><p>{escape(g.summary())}</p>",
    ]
    if result.fit_diagnosis is not None:
        d = result.fit_diagnosis
        parts.append(f"<h3>Fit diagnosis: {escape(d.verdict)}</h3><p>{escape(d.summary())}</p>")
    figs = [*_curves(result), _gradients(result)]
    for i, fig in enumerate(figs):
        parts.append(figure_html(fig, include_plotlyjs if i == 0 else False))
    return "\n".join(parts)
