"""HTML pieces the self-contained reports share (no scripts, no templates): a table of rows and an
interval's text. Knows nothing about models."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["STYLE", "html_table", "interval_text"]

#: The plain page style of the training reports.
STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse}td,th{padding:2px 8px}"
)


def html_table(rows: list[dict[str, Any]], number: str = "{:.4f}") -> str:
    """An HTML table of ``rows`` (the first row's keys are the columns; a missing cell is blank), floats
    formatted with ``number``; ``<p>none</p>`` without rows.

    >>> html_table([{"model": "a<b", "f1": 0.5}])
    '<table><tr><th>model</th><th>f1</th></tr><tr><td>a&lt;b</td><td>0.5000</td></tr></table>'
    """
    if not rows:
        return "<p>none</p>"
    cols = list(rows[0])

    def cell(v: Any) -> str:
        return escape(number.format(v) if isinstance(v, float) else "" if v is None else str(v))

    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def interval_text(iv: Any) -> str:
    """``value [low, high]`` of an interval (anything with ``value``, ``low``, ``high``), 4 decimals."""
    return f"{iv.value:.4f} [{iv.low:.4f}, {iv.high:.4f}]"
