"""``shopml nn gradients --quick``: one run of the four experiments; each points the expected way
(loose thresholds) and the JSON has the documented shape."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from tests.nn.conftest import torch  # noqa: F401  (skips without torch)
from typer.testing import CliRunner

from shopml.cli.main import app


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("gradients")
    args = ["nn", "gradients", "--quick", "--json", str(tmp / "g.json"), "--html", str(tmp / "g.html")]
    out = CliRunner().invoke(app, [*args, "-w", str(tmp / "ws")], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.stdout + out.stderr
    assert "diverged at step" in out.stdout
    html = (tmp / "g.html").read_text()
    assert html.count("plotly-graph-div") == 4 and "Vanishing gradients" in html
    return json.loads((tmp / "g.json").read_text())  # type: ignore[no-any-return]


def test_recurrent_shape_and_vanishing(found: dict[str, Any]) -> None:
    rows = {(r["cell"], r["length"]): r for r in found["recurrent"]}
    assert set(rows) == {(c, n) for c in ("rnn", "gru", "lstm") for n in (10, 50, 100)}
    assert {"cell", "length", "grad_ratio", "accuracy"} <= set(rows["rnn", 10])
    assert rows["rnn", 100]["grad_ratio"] < 1e-6
    assert rows["gru", 100]["grad_ratio"] > 1e3 * rows["rnn", 100]["grad_ratio"]
    assert rows["lstm", 10]["accuracy"] > 0.9 and rows["gru", 10]["accuracy"] > 0.9


def test_clipping_cures_the_explosion(found: dict[str, Any]) -> None:
    un, cl = found["exploding"]["unclipped"], found["exploding"]["clipped"]
    assert un["diverged_at"] is not None and un["layer"] == "rnn"
    assert (
        cl["diverged_at"] is None and math.isfinite(cl["final_loss"]) and cl["final_loss"] < cl["first_loss"]
    )


def test_depth_and_overfitting(found: dict[str, Any]) -> None:
    depth = {d["model"]: d for d in found["depth"]}
    plain = depth["plain"]["grad_ratio"]
    assert depth["plain"]["gradients"] == "vanishing"
    assert depth["batch norm"]["grad_ratio"] > 1e3 * plain and depth["residual"]["grad_ratio"] > 1e2 * plain
    over = {o["variant"]: o for o in found["overfitting"]}
    assert over["plain"]["gap"] > 0.05 and over["plain"]["diagnosis"] == "overfit"
    assert over["early stopping"]["gap"] < over["plain"]["gap"]
    assert over["augmentation"]["gap"] < over["plain"]["gap"]


def test_nn_help_lists_gradients() -> None:
    out = CliRunner().invoke(app, ["nn", "--help"])
    assert out.exit_code == 0 and "gradients" in out.stdout
