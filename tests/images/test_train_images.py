"""``shopml train --task images --quick`` end to end on simulated photos: the CNN through the guarded
loop, baselines, intervals, review threshold, ONNX parity, report, bundle, registration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shopml.cli.main import app

pytest.importorskip("torch")


def test_quick_run_registers_an_images_model(photos: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    ws = tmp_path / "ws"
    out = CliRunner().invoke(
        app,
        ["train", "--task", "images", "--data", str(photos), "--quick", "-w", str(ws)],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code == 0, out.stdout + out.stderr
    text = " ".join(out.stdout.split())
    assert "logistic regression" in text and "MLP 256-128" in text and "ONNX parity" in text
    assert "registered images version 1 (champion)" in text

    from shopml.config import Workspace
    from shopml.images.export import onnx_proba
    from shopml.images.idx import load_images
    from shopml.registry import Registry

    bundle = Registry(Workspace(ws)).load_bundle("images")
    meta = json.loads((bundle.path / "bundle.json").read_text())
    assert meta["kind"] == "multiclass" and meta["task"] == "images"
    assert meta["classes"][0] == "tshirt" and meta["input_shape"] == [-1, 1, 28, 28]
    assert meta["parity_max_abs_diff"] <= 1e-4 and 0 <= meta["metrics"]["accuracy"] <= 1
    assert meta["metrics"]["accuracy_low"] <= meta["metrics"]["accuracy"] <= meta["metrics"]["accuracy_high"]
    ds = load_images(photos)
    proba = onnx_proba(bundle.onnx_path.read_bytes(), ds.test_x[:5])
    assert proba.shape == (5, 8) and np.allclose(proba.sum(1), 1, atol=1e-5)
    report = (bundle.path / "report.html").read_text()
    for part in ("Auto-assign or review", "Calibration: ECE", "Confusion matrix", "Gradient norm per layer"):
        assert part in report


def test_missing_photos_are_a_clear_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["train", "--task", "images", "--data", str(tmp_path), "--quick", "-w", str(tmp_path / "ws")]
    )
    assert out.exit_code != 0
    assert "holds no product photos" in " ".join(out.stderr.split())


def test_both_pooling_heads_export_with_parity() -> None:
    import torch

    from shopml.images.cnn import Classifier, Serving, build_cnn
    from shopml.images.export import export_onnx

    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28)).astype(np.uint8)
    for pool in (1, 3):
        torch.manual_seed(0)
        serving = Serving(Classifier(build_cnn(3, width=4, extra=False, pool=pool), 0.3, 0.3))
        _, delta = export_onnx(serving, ["a", "b", "c"], x)
        assert delta <= 1e-4


def test_mirror_averaging_is_in_the_exported_graph() -> None:
    """With ``mirror`` the served probabilities are the mean over the photo and its mirror image: the
    ONNX graph answers a photo and its mirror image alike, and matches PyTorch; the embedding stays the
    photo's own."""
    import torch

    from shopml.images.cnn import Classifier, Serving, build_cnn
    from shopml.images.export import EMBEDDING, export_graph, onnx_outputs

    x = np.random.default_rng(1).integers(0, 256, (12, 28, 28)).astype(np.uint8)
    mirrored = x[:, :, ::-1].copy()
    torch.manual_seed(0)
    clf = Classifier(build_cnn(3, width=4, extra=False, pool=3), 0.3, 0.3)
    plain = export_graph(Serving(clf), ["a", "b", "c"], x)
    both = export_graph(Serving(clf, mirror=True), ["a", "b", "c"], x)
    assert both.parity <= 1e-4
    p, e = onnx_outputs(both.graph, x, ["probabilities", EMBEDDING])
    pm, em = onnx_outputs(both.graph, mirrored, ["probabilities", EMBEDDING])
    np.testing.assert_allclose(p, pm, atol=1e-6)
    assert np.abs(e - em).max() > 1e-3  # the embedding is of the photo as sent
    q, qm = (onnx_outputs(plain.graph, a, ["probabilities"])[0] for a in (x, mirrored))
    np.testing.assert_allclose(p, (q + qm) / 2, atol=1e-5)
    np.testing.assert_allclose(e, onnx_outputs(plain.graph, x, [EMBEDDING])[0], atol=1e-5)
