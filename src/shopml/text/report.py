"""The text classifier's training report: one self-contained HTML page (Plotly inlined once)."""

from __future__ import annotations

from html import escape
from typing import Any

from shopml.nn.report import figure_html, report_section
from shopml.report import STYLE, html_table, interval_text
from shopml.text.flow import TextRun

__all__ = ["metric_rows", "render_text_report", "speed_rows"]

LABELS = {
    "teacher": "teacher (MiniLM-L6, fine-tuned)",
    "student": "student (distilled)",
    "student_int8": "student, INT8",
    "tfidf": "TF-IDF + logistic regression",
    "frozen_linear": "frozen encoder + linear head",
}


def metric_rows(run: TextRun) -> list[dict[str, Any]]:
    """One row per model: accuracy and macro-F1 with intervals, log-loss, fit seconds."""
    return [
        {
            "model": LABELS[name] + (" (served)" if name == run.served else ""),
            "accuracy": interval_text(m["metrics"]["accuracy"]),
            "macro-F1": interval_text(m["metrics"]["macro_f1"]),
            "log-loss": m["metrics"]["log_loss"].value,
            "fit seconds": round(m["fit_seconds"], 1),
        }
        for name, m in run.models.items()
    ]


def speed_rows(run: TextRun) -> list[dict[str, Any]]:
    """The speed/accuracy table: one text at a time (p50, p95 ms), texts/s in batches, size, accuracy."""
    return [
        {
            "model": LABELS[name],
            "accuracy": round(m["metrics"]["accuracy"].value, 4),
            "p50 ms": round(m["speed"]["p50_ms"], 2),
            "p95 ms": round(m["speed"]["p95_ms"], 2),
            "texts/s (batch 32)": round(m["speed"]["texts_per_s"], 1),
            "size MB": round(m["size_mb"], 1) if "size_mb" in m else "",
        }
        for name, m in run.models.items()
        if "speed" in m
    ]


def _figures(run: TextRun) -> list[Any]:
    import plotly.graph_objects as go

    rows = speed_rows(run)
    trade = go.Figure()
    for r in rows:
        trade.add_scatter(x=[r["p50 ms"]], y=[r["accuracy"]], mode="markers+text", text=[r["model"]],
                          textposition="top center", marker={"size": 12}, name=r["model"])  # fmt: skip
    trade.update_layout(
        title="Accuracy vs latency (one text, p50, one thread)", xaxis_title="ms", yaxis_title="accuracy",
        xaxis_type="log", showlegend=False,
    )  # fmt: skip
    conf = go.Figure(
        go.Heatmap(
            z=run.confusion.tolist(), x=run.classes, y=run.classes, colorscale="Blues", texttemplate="%{z}"
        )
    )
    conf.update_layout(
        title=f"Confusion matrix of the served model ({LABELS[run.served]}; rows true, columns predicted)",
        yaxis_autorange="reversed",
    )
    return [trade, conf]


def render_text_report(run: TextRun, *, name: str) -> str:
    """The page."""
    cfg, q = run.cfg, run.quant_parity
    figs = _figures(run)
    parts = [
        f"<h1>{escape(name)} — text classifier ({escape(cfg.target)}, multiclass)</h1>",
        f"<p>data {escape(run.data.source)}: {run.n_train} training, {run.n_valid} validation and "
        f"{len(run.data.test_y)} test texts (held-out templates and words), {len(run.classes)} classes; "
        f"max {cfg.max_length} tokens; encoder all-MiniLM-L6-v2 "
        f"(weights SHA-256 {run.encoder_sha256[:16]}…); "
        f"peak memory {run.peak_memory_mb:.0f} MB; served model: {escape(LABELS[run.served])}</p>",
        f"<h2>Test metrics ({cfg.level:.0%} bootstrap intervals)</h2>",
        html_table(metric_rows(run)),
        "<h2>Speed and accuracy</h2>",
        html_table(speed_rows(run)),
        figure_html(figs[0], include_plotlyjs=True),
        "<h2>INT8 quantisation parity (student)</h2>",
        f"<p>accuracy {q.accuracy_fp32:.4f} → {q.accuracy_int8:.4f} "
        f"(drop {q.accuracy_drop_points:.2f} points, at most 0.5); embedding cosine mean "
        f"{q.cosine_mean:.4f}, min {q.cosine_min:.4f} (mean at least 0.99); "
        f"max |Δp| {q.max_abs_probability_diff:.2e}: {'passed' if q.passed else 'failed'}</p>",
        "<h2>Per class (test, served model)</h2>",
        html_table(run.per_class),
        figure_html(figs[1], height=520),
        report_section(run.teacher_fit, "Teacher fine-tuning (guarded loop)", include_plotlyjs=False),
        report_section(run.student_fit, "Student distillation (guarded loop)", include_plotlyjs=False),
        "<h2>Settings</h2>",
        html_table([{"setting": k, "value": str(v)} for k, v in cfg.to_dict().items()]),
    ]
    head = f"<head><meta charset='utf-8'><title>{escape(name)}</title><style>{STYLE}</style></head>"
    return "<!doctype html><html>" + head + "<body>" + "\n".join(parts) + "</body></html>"
