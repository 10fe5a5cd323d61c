"""The image classifier's training report: one self-contained HTML page (Plotly inlined once)."""

from __future__ import annotations

from html import escape
from itertools import accumulate
from typing import Any

from shopml.images.flow import ImagesRun
from shopml.nn.report import figure_html, report_section
from shopml.report import STYLE, html_table, interval_text

__all__ = ["render_images_report"]


def metric_rows(run: ImagesRun) -> list[dict[str, Any]]:
    """One row per model: accuracy and macro-F1 with intervals, log-loss, fit seconds."""
    rows = [("CNN", run.metrics, run.train_seconds)]
    rows += [(name, b["metrics"], b["seconds"]) for name, b in run.baselines.items()]
    return [
        {
            "model": name,
            "accuracy": interval_text(m["accuracy"]),
            "macro-F1": interval_text(m["macro_f1"]),
            "log-loss": m["log_loss"].value,
            "fit seconds": round(sec, 1),
        }
        for name, m, sec in rows
    ]


def _figures(run: ImagesRun) -> list[Any]:
    import plotly.graph_objects as go

    cov = go.Figure()
    cov.add_scatter(x=run.coverage["coverage"], y=run.coverage["precision"], mode="lines", name="CNN")
    t = run.review.get("test") or {}
    if t:
        cov.add_scatter(
            x=[t["coverage"]], y=[t["precision"]], mode="markers", marker={"size": 12},
            name=f"threshold {t['threshold']:.3f} (chosen on validation)",
        )  # fmt: skip
    cov.add_hline(y=run.review["target"], line_dash="dot", annotation_text=f"{run.review['target']:.0%}")
    cov.update_layout(
        title="Auto-assign when confident: coverage vs precision (test)",
        xaxis_title="share auto-assigned",
        yaxis_title="precision of auto-assigned",
    )
    rel = go.Figure()
    rel.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot"}, name="perfect")
    rel.add_scatter(
        x=[r["confidence"] for r in run.reliability], y=[r["accuracy"] for r in run.reliability],
        mode="lines+markers", name=f"CNN (ECE {run.ece:.4f})",
    )  # fmt: skip
    rel.update_layout(title="Reliability (test)", xaxis_title="confidence", yaxis_title="accuracy")
    conf = go.Figure(
        go.Heatmap(
            z=run.confusion.tolist(), x=run.classes, y=run.classes, colorscale="Blues", texttemplate="%{z}"
        )
    )
    conf.update_layout(
        title="Confusion matrix (test; rows true, columns predicted)", yaxis_autorange="reversed"
    )
    h = run.fit.history
    elapsed = list(accumulate(r["seconds"] for r in h))
    speed = go.Figure()
    speed.add_scatter(
        x=elapsed, y=[r.get("valid_metric") for r in h], mode="lines+markers", name="validation"
    )
    speed.update_layout(title="Accuracy vs training time", xaxis_title="seconds", yaxis_title="accuracy")
    return [cov, rel, conf, speed]


def render_images_report(run: ImagesRun, *, name: str, parity: float, config: dict[str, Any]) -> str:
    """The page."""
    r = run.review
    v, t = r["validation"], r.get("test") or {}
    review = (
        f"Threshold {v['threshold']:.4f} reaches {v['precision']:.2%} precision on validation "
        f"(coverage {v['coverage']:.1%}); on test it auto-assigns {t.get('coverage', 0):.1%} of photos at "
        f"{t.get('precision', float('nan')):.2%} precision, the rest go to review."
        if t
        else f"No confidence threshold reaches {r['target']:.0%} precision on validation: every photo "
        "goes to review."
    )
    figs = _figures(run)
    parts = [
        f"<h1>{escape(name)} — product photo classifier (multiclass)</h1>",
        f"<p>data {escape(str(run.data.source))}: {run.n_train} training, {run.n_valid} validation, "
        f"{len(run.data.test_y)} test photos, {len(run.classes)} classes; CNN training "
        f"{run.train_seconds:.0f} s, "
        f"peak memory {run.peak_memory_mb:.0f} MB; ONNX parity max |Δ| {parity:.2e}</p>",
        f"<h2>Test metrics ({config['level']:.0%} bootstrap intervals), CNN and baselines</h2>",
        html_table(metric_rows(run)),
        "<h2>Auto-assign or review</h2>",
        f"<p>{escape(review)}</p>",
        figure_html(figs[0], include_plotlyjs=True),
        f"<h2>Calibration: ECE {run.ece:.4f}</h2>",
        figure_html(figs[1]),
        "<h2>Per class (test)</h2>",
        html_table(run.per_class),
        figure_html(figs[2], height=520),
        figure_html(figs[3]),
        report_section(run.fit, "CNN training (guarded loop)", include_plotlyjs=False),
        "<h2>Settings</h2>",
        html_table([{"setting": k, "value": str(val)} for k, val in config.items()]),
    ]
    head = f"<head><meta charset='utf-8'><title>{escape(name)}</title><style>{STYLE}</style></head>"
    return "<!doctype html><html>" + head + "<body>" + "\n".join(parts) + "</body></html>"
