"""Gate rules, the first-model rule, no-decision, and the written report."""

from __future__ import annotations

import json
from html import escape as html_escape
from pathlib import Path

import numpy as np

from shopml.loop.gate import decide, write_gate_report
from shopml.loop.policy import GatePolicy


def _data(seed: int = 0, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(np.int8)
    return y, 1.0 * y + rng.normal(size=n), 2.5 * y + rng.normal(size=n)


def test_better_challenger_promoted_worse_rejected() -> None:
    y, weak, strong = _data()
    policy = GatePolicy(min_metric=0.1, n_resamples=300)
    assert decide(y, strong, weak, policy).verdict == "promote"
    worse = decide(y, weak, strong, policy)
    assert worse.verdict == "reject" and any("comparison FAILED" in r for r in worse.reasons)


def test_floor_blocks_even_a_better_challenger() -> None:
    y, weak, strong = _data()
    d = decide(y, strong, weak, GatePolicy(min_metric=0.99, n_resamples=200))
    assert d.verdict == "reject" and any("floor FAILED" in r for r in d.reasons)


def test_first_model_promoted_iff_it_passes_the_floor() -> None:
    y, _, strong = _data()
    assert decide(y, strong, None, GatePolicy(min_metric=0.3, n_resamples=200)).verdict == "promote"
    assert decide(y, strong, None, GatePolicy(min_metric=0.99, n_resamples=200)).verdict == "reject"
    never = decide(y, strong, None, GatePolicy(first_model="never", n_resamples=200))
    assert never.verdict == "reject" and "first model" in never.rule


def test_too_few_positives_is_no_decision() -> None:
    y, weak, strong = _data(n=200)
    d = decide(y, strong, weak, GatePolicy(min_positives=50, n_resamples=200))
    assert d.verdict == "no_decision" and "needs >= 50" in d.reasons[0]


def test_report_json_and_html(tmp_path: Path) -> None:
    y, weak, strong = _data()
    d = decide(y, strong, weak, GatePolicy(n_resamples=200))
    d.model, d.challenger_version, d.champion_version = "fraud", 3, 2
    js, html = write_gate_report(d, tmp_path / "gate", "fraud-v3")
    data = json.loads(js.read_text())
    assert data["verdict"] == "promote" and data["bootstrap"]["diff_lower"] > 0
    text = html.read_text()
    assert "PROMOTE" in text and "one-sided lower" in text and "champion v2" in text
    assert html_escape(d.rule) in text
