"""ONNX export of the photo classifier with the multiclass kind's outputs, and its parity check.

The graph takes ``image`` FP32 ``[N, 1, 28, 28]`` (pixels in [0, 1]) and answers ``probabilities``
``[N, C]`` and ``label`` (the class name), as every multiclass bundle does. Parity: ONNX Runtime's
probabilities on held-out photos within ``tolerance`` (max absolute difference) of PyTorch's.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np

from shopml.errors import ModelError

__all__ = ["INPUT", "export_onnx", "onnx_proba", "torch_proba"]

INPUT = "image"


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


def onnx_proba(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Probabilities from ONNX Runtime for uint8 photos ``[N, 28, 28]``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    feed = {INPUT: (np.asarray(x, dtype=np.float32) / 255.0)[:, None, :, :]}
    return np.asarray(sess.run(["probabilities"], feed)[0])


def export_onnx(
    serving: Any, classes: list[str], check_x: np.ndarray, tolerance: float = 1e-4
) -> tuple[bytes, float]:
    """Export, add the kind's ``label`` output, check parity on ``check_x``; (graph bytes, max |Δ|)."""
    import onnx
    import torch

    from shopml.kinds import get_kind

    serving.eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            serving,
            (torch.zeros(2, 1, 28, 28),),
            buf,  # type: ignore[arg-type]  # a binary stream works as the file
            input_names=[INPUT],
            output_names=["probabilities"],
            dynamic_axes={INPUT: {0: "n"}, "probabilities": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
    graph = onnx.load_from_string(buf.getvalue())
    get_kind("multiclass").finish_onnx(graph, {"classes": classes})
    raw = graph.SerializeToString()
    want = torch_proba(serving, check_x)
    got = onnx_proba(raw, check_x)
    delta = float(np.max(np.abs(got - want))) if want.size else 0.0
    if not np.isfinite(delta) or delta > tolerance:
        raise ModelError(
            f"ONNX parity check failed: max |probability difference| {delta:.3g} > {tolerance:g} on "
            f"{len(check_x)} held-out photos; the model was not registered"
        )
    return raw, delta
