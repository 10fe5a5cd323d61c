"""The training report of a kind without a threshold: one self-contained HTML page (no scripts)."""

from __future__ import annotations

from html import escape
from typing import Any

from shopml.report import html_table

__all__ = ["render_kind_report"]


def render_kind_report(
    *,
    name: str,
    kind: str,
    primary: str,
    metrics: dict[str, Any],
    level: float,
    diagnosis: dict[str, Any],
    search: list[dict[str, Any]],
    split: dict[str, Any],
    importance: dict[str, float],
    parity: float | None = None,
) -> str:
    """The page: test metrics with intervals (primary first), diagnosis, search, split, importance."""
    order = [primary, *[m for m in metrics if m != primary]]
    metric_rows = [
        {"metric": m, "value": metrics[m].value, f"{level:.0%} low": metrics[m].low, "high": metrics[m].high}
        for m in order
    ]
    periods = [{"period": p, **split[p]} for p in ("train", "valid", "test") if p in split]
    top = sorted(importance.items(), key=lambda kv: -kv[1])[:20]
    parts = [
        f"<h1>{escape(name)} — {escape(kind)} model</h1>",
        f"<h2>Test metrics (primary: {escape(primary)}; block-bootstrap intervals by hour)</h2>",
        html_table(metric_rows, "{:.4g}"),
        f"<h2>Fit diagnosis: {escape(str(diagnosis.get('verdict')))}</h2>",
        f"<p>{escape(str(diagnosis.get('rule')))}. Remedy: {escape(str(diagnosis.get('remedy')))}</p>",
        "<h2>Search (validation period)</h2>",
        html_table(search, "{:.4g}"),
        "<h2>Time split</h2>",
        html_table(periods, "{:.4g}"),
        "<h2>Feature importance (gain)</h2>",
        html_table([{"feature": k, "gain": v} for k, v in top], "{:.4g}"),
    ]
    if parity is not None:
        parts.append(f"<p>ONNX parity: max |difference| {parity:.3g}</p>")
    style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 8px}"
    body = "\n".join(parts)
    head = f"<head><meta charset='utf-8'><title>{escape(name)}</title><style>{style}</style></head>"
    return f"<!doctype html><html>{head}<body>{body}</body></html>"
