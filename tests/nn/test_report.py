"""The HTML section of a run: curves, gradient norms and both diagnoses."""

from __future__ import annotations

from tests.nn.conftest import accuracy, ce_loss, mlp

from shopml.nn import FitConfig, fit, report_section


def test_section_has_plots_and_diagnoses(data) -> None:
    train, valid = data
    cfg = FitConfig(epochs=2, chance=0.5, metric_name="accuracy", progress=False, threads=1)
    res = fit(mlp(), ce_loss, train, valid, accuracy, cfg, train_eval=train)
    html = report_section(res, "CNN training")
    assert "<h2>CNN training</h2>" in html and "Gradients: healthy" in html and "Fit diagnosis" in html
    assert html.count("plotly-graph-div") == 3  # loss curves, metric curves, gradient norms
    assert "Gradient norm per layer" in html and "Learning curves: accuracy" in html
    assert "plotly.js" in html or "Plotly" in html
    later = report_section(res, include_plotlyjs=False)
    assert len(later) < len(html) / 5
