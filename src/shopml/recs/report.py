"""The recommender's training report: one self-contained HTML file.

The test metrics of the GRU, every baseline and the oracle bound with their intervals, the GRU's gap to
the oracle, and the guarded loop's training section (learning curves, gradient norms, both diagnoses:
``shopml.nn.report_section``, which inlines Plotly once).
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from shopml.stats import Interval

__all__ = ["render_report"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shopml recs: {{ name }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}.best{font-weight:bold}.note{color:#555}</style></head>
<body>
<h1>Session recommender <code>{{ name }}</code></h1>
<p class="note">Next-item prediction ranked among all {{ n_items }} items (ties counted against the model);
{{ predictions }} test predictions in {{ sessions }} sessions; {{ level_pct }}% intervals from a bootstrap
over whole sessions ({{ n_resamples }} resamples).</p>
<h2>Test metrics</h2>
<table><tr><th>model</th>{% for m in metric_names %}<th>{{ m }} [interval]</th>{% endfor %}
<th>fit + score s</th></tr>
{% for row in rows %}<tr{% if row.name == 'gru' %} class="best"{% endif %}><td>{{ row.name }}</td>
{% for m in metric_names %}<td>{{ row[m] }}</td>{% endfor %}<td>{{ row.seconds }}</td></tr>{% endfor %}
</table>
{% if gap %}<p>Gap of the GRU to the oracle bound: {{ gap }}.</p>{% endif %}
<p>{{ verdict }}</p>
{{ training }}
<h2>Parameters and lineage</h2><pre>{{ params }}</pre><pre>{{ lineage }}</pre>
</body></html>
"""


def _cell(iv: Interval) -> str:
    return f"{iv.value:.4f} [{iv.low:.4f}, {iv.high:.4f}]"


def render_report(
    *,
    name: str,
    results: dict[str, dict[str, Interval]],
    seconds: dict[str, float],
    metric_names: tuple[str, str],
    training_html: str,
    verdict: str,
    info: dict[str, Any],
    level: float,
    n_resamples: int,
) -> str:
    """The report as one HTML string (``results``: model → metric → interval; ``training_html``: the
    loop's section; ``info``: counts, parameters and lineage)."""
    rows = [
        {"name": m, **{k: _cell(v[k]) for k in metric_names}, "seconds": f"{seconds.get(m, 0.0):.1f}"}
        for m, v in results.items()
    ]
    gap = ""
    if "oracle" in results and "gru" in results:
        gap = ", ".join(
            f"{k} {results['oracle'][k].value - results['gru'][k].value:+.4f} "
            f"({results['gru'][k].value / max(results['oracle'][k].value, 1e-12):.0%} of the bound)"
            for k in metric_names
        )
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        name=name,
        rows=rows,
        metric_names=metric_names,
        gap=gap,
        verdict=verdict,
        training=Markup(training_html),
        params=json.dumps(info.get("params", {}), indent=2, default=str),
        lineage=json.dumps(info.get("lineage", {}), indent=2, default=str),
        n_items=info.get("n_items"),
        predictions=info.get("predictions"),
        sessions=info.get("sessions"),
        level_pct=round(level * 100),
        n_resamples=n_resamples,
    )
