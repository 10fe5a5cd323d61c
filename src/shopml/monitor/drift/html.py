"""Self-contained HTML for a :class:`~shopml.monitor.drift.report.DriftReport` (Plotly inlined, offline)."""

from __future__ import annotations

import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.offline import get_plotlyjs

from shopml.monitor.drift.report import DriftReport, FeatureDrift

__all__ = ["render_report"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<script type="text/javascript">{{ plotlyjs|safe }}</script>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right} th{background:#f3f3f3} td.l{text-align:left}
.drift{color:#b00020;font-weight:bold} .ok{color:#2e7d32} .warning,.insufficient_data,.missing{color:#b26a00}
.feature{display:inline-block;width:480px;vertical-align:top;margin:0 1em 1em 0}
</style></head><body>
<h1>{{ title }}</h1>
<p>Verdict: <span class="{{ r.verdict }}">{{ r.verdict }}</span> —
drifted share {{ "%.0f"|format(100*r.drift_share) }}%
(threshold {{ "%.0f"|format(100*r.share_threshold) }}%);
{{ r.n_reference }} reference vs {{ r.n_current }} current rows;
correction {{ r.correction }}, α = {{ r.alpha }}. Generated {{ r.created_at }}.</p>
<ul>{% for reason in r.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>
<h2>Features</h2>
<p>A feature drifts when its corrected p-value is below α <b>and</b> its effect size reaches the floor.</p>
<table><tr><th>feature</th><th>test</th><th>method</th><th>statistic</th><th>p</th><th>p adjusted</th>
<th>effect</th><th>floor</th><th>verdict</th><th>new categories</th></tr>
{% for f in rows %}<tr><td class="l">{{ f.name }}</td><td class="l">{{ f.test }}</td>
<td class="l">{{ f.method }}</td>
<td>{{ fmt(f.statistic) }}</td><td>{{ fmt(f.p_value) }}</td><td>{{ fmt(f.p_adjusted) }}</td>
<td>{{ fmt(f.effect_size) }} ({{ f.effect_name }})</td><td>{{ fmt(f.min_effect) }}</td>
<td class="{{ f.verdict }}">{{ f.verdict }}</td>
<td class="l">{{ f.new_categories|join(", ") }}</td></tr>{% endfor %}
</table>
{% if r.multivariate %}<h2>Multivariate (domain classifier)</h2>
<p>AUC {{ fmt(r.multivariate.auc) }} [{{ fmt(r.multivariate.auc_low) }}, {{ fmt(r.multivariate.auc_high) }}],
p = {{ fmt(r.multivariate.p_value) }}, floor {{ r.multivariate.min_auc }}:
<span class="{{ r.multivariate.verdict }}">{{ r.multivariate.verdict }}</span>.
Top separating features: {{ r.multivariate.top_features|join(", ") }}.</p>{% endif %}
<h2>Data quality</h2>
{% if r.quality %}<ul>{% for q in r.quality %}
<li class="{{ 'drift' if q.severity == 'error' else 'warning' }}">
{{ q.check }}: {{ q.message }}</li>{% endfor %}</ul>{% else %}<p class="ok">No issues.</p>{% endif %}
{% if r.schema_mismatch.missing_in_current or r.schema_mismatch.unexpected_in_current %}
<p>Missing in current: {{ r.schema_mismatch.missing_in_current|join(", ") }};
unexpected in current: {{ r.schema_mismatch.unexpected_in_current|join(", ") }}</p>{% endif %}
<h2>Distributions (reference vs current)</h2>
{% for div in plots %}<div class="feature">{{ div|safe }}</div>{% endfor %}
</body></html>"""


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def _plot(f: FeatureDrift) -> str | None:
    if f.histogram is None:
        return None
    h = f.histogram
    fig = go.Figure(
        [
            go.Bar(name="reference", x=h.labels, y=h.reference, marker_color="#7a9cc6"),
            go.Bar(name="current", x=h.labels, y=h.current, marker_color="#e07b39"),
        ]
    )
    title = f"{f.name}: {f.verdict} ({f.test} {_fmt(f.statistic)}, effect {_fmt(f.effect_size)})"
    fig.update_layout(
        title=title,
        barmode="group",
        height=320,
        width=470,
        margin=dict(l=40, r=10, t=40, b=60),
        yaxis_title="share",
        legend=dict(orientation="h"),
    )
    html: str = fig.to_html(include_plotlyjs=False, full_html=False)
    return html


def render_report(report: DriftReport, title: str = "shopml drift report") -> str:
    """The whole report as one HTML page."""
    rows = [*report.features, *([report.prediction] if report.prediction else [])]
    plots = [p for p in (_plot(f) for f in sorted(rows, key=lambda f: not f.drifted)) if p]
    env = Environment(autoescape=select_autoescape(default=True))
    template = env.from_string(_TEMPLATE)
    return template.render(title=title, r=report, rows=rows, plots=plots, plotlyjs=get_plotlyjs(), fmt=_fmt)
