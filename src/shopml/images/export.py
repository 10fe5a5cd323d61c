"""ONNX export of the photo classifier with the multiclass kind's outputs and the embedding, and its
parity check.

The graph takes ``image`` FP32 ``[N, 1, 28, 28]`` (pixels in [0, 1]) and answers ``probabilities``
``[N, C]`` and ``label`` (the class name), as every multiclass bundle does, plus ``embedding`` ``[N, D]``
(the penultimate layer: after global pooling, before dropout and the linear head), which the server
logs for drift on photos. Parity: ONNX Runtime's probabilities on held-out photos within ``tolerance``
(max absolute difference) of PyTorch's; the embedding's difference is measured and reported too.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopml.errors import ModelError

__all__ = [
    "EMBEDDING",
    "INPUT",
    "Export",
    "export_graph",
    "export_onnx",
    "onnx_outputs",
    "onnx_proba",
    "torch_outputs",
    "torch_proba",
]

INPUT = "image"
#: The graph output holding the penultimate layer (bundle.json ``embedding_output``).
EMBEDDING = "embedding"


def torch_outputs(serving: Any, x: np.ndarray, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``[N, C]`` and embeddings ``[N, D]`` (float32) of the serving module for uint8
    photos ``[N, 28, 28]``."""
    import torch

    from shopml.images.cnn import to_tensor

    serving.eval()
    probs, embs = [], []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            p, e = serving.outputs(to_tensor(x[i : i + batch]))
            probs.append(p.numpy())
            embs.append(e.numpy())
    if not probs:
        return np.zeros((0, 0), np.float32), np.zeros((0, serving.classifier.embedding_dim), np.float32)
    return np.concatenate(probs).astype(np.float32), np.concatenate(embs).astype(np.float32)


def torch_proba(serving: Any, x: np.ndarray, batch: int = 512) -> np.ndarray:
    """Probabilities of the serving module for uint8 photos ``[N, 28, 28]`` (float32)."""
    import torch

    from shopml.images.cnn import to_tensor

    serving.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(serving(to_tensor(x[i : i + batch])).numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def onnx_outputs(model_bytes: bytes, x: np.ndarray, names: list[str]) -> list[np.ndarray]:
    """The graph's outputs ``names`` from ONNX Runtime for uint8 photos ``[N, 28, 28]``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    feed = {INPUT: (np.asarray(x, dtype=np.float32) / 255.0)[:, None, :, :]}
    return [np.asarray(o) for o in sess.run(names, feed)]


def onnx_proba(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Probabilities from ONNX Runtime for uint8 photos ``[N, 28, 28]``."""
    return onnx_outputs(model_bytes, x, ["probabilities"])[0]


@dataclass(frozen=True)
class Export:
    """The exported graph and what its parity check measured (max absolute differences to PyTorch)."""

    graph: bytes
    parity: float  # probabilities
    embedding_parity: float
    embedding_dim: int


def export_graph(serving: Any, classes: list[str], check_x: np.ndarray, tolerance: float = 1e-4) -> Export:
    """Export (``probabilities``, ``label``, ``embedding``), check parity on ``check_x``."""
    import onnx
    import torch
    from onnx import TensorProto, helper

    from shopml.images.cnn import Exported
    from shopml.kinds import get_kind

    serving.eval()
    dim = serving.classifier.embedding_dim
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            Exported(serving).eval(),
            (torch.zeros(2, 1, 28, 28),),
            buf,  # type: ignore[arg-type]  # a binary stream works as the file
            input_names=[INPUT],
            output_names=["probabilities", EMBEDDING],
            dynamic_axes={INPUT: {0: "n"}, "probabilities": {0: "n"}, EMBEDDING: {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
    graph = onnx.load_from_string(buf.getvalue())
    get_kind("multiclass").finish_onnx(graph, {"classes": classes})  # keeps probabilities and label
    graph.graph.output.append(helper.make_tensor_value_info(EMBEDDING, TensorProto.FLOAT, [None, dim]))
    onnx.checker.check_model(graph)
    raw = graph.SerializeToString()
    want_p, want_e = torch_outputs(serving, check_x)
    got_p, got_e = onnx_outputs(raw, check_x, ["probabilities", EMBEDDING])
    delta = float(np.max(np.abs(got_p - want_p))) if want_p.size else 0.0
    delta_e = float(np.max(np.abs(got_e - want_e))) if want_e.size else 0.0
    if not np.isfinite(delta) or delta > tolerance:
        raise ModelError(
            f"ONNX parity check failed: max |probability difference| {delta:.3g} > {tolerance:g} on "
            f"{len(check_x)} held-out photos; the model was not registered"
        )
    return Export(raw, delta, delta_e, dim)


def export_onnx(
    serving: Any, classes: list[str], check_x: np.ndarray, tolerance: float = 1e-4
) -> tuple[bytes, float]:
    """:func:`export_graph`'s (graph bytes, max |Δ probability|)."""
    out = export_graph(serving, classes, check_x, tolerance)
    return out.graph, out.parity
