"""ONNX export of the GRU recommender with a parity check against PyTorch on held-out sessions.

The graph takes ``items`` int64 [N, L] (catalogue indices, right-padded with 0) and ``lengths`` int64
[N], and returns ``scores`` float32 [N, I] after each session's last event (the ``ranking`` kind's
served output). Parity: on held-out sessions the top-``k`` items of ONNX Runtime and PyTorch must be
identical and every score within ``tolerance``; otherwise :class:`ModelError` and nothing is written.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopml.errors import ModelError
from shopml.recs.data import Sessions

__all__ = ["Parity", "check_parity", "export_onnx", "padded"]

OPSET = 17


@dataclass(frozen=True)
class Parity:
    """The parity check's figures."""

    sessions: int
    max_abs_diff: float
    topk_identical: bool
    k: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "sessions": self.sessions,
            "max_abs_diff": self.max_abs_diff,
            "topk_identical": self.topk_identical,
            "k": self.k,
        }


def padded(s: Sessions, sessions: np.ndarray, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded item matrix [N, L] and lengths [N] of ``sessions`` (the last ``max_len`` events)."""
    lens = s.lengths[sessions]
    if max_len is not None:
        lens = np.minimum(lens, max_len)
    items = np.zeros((sessions.size, max(int(lens.max()), 1)), np.int64)
    for i, (end, n) in enumerate(zip(s.offsets[sessions + 1].tolist(), lens.tolist(), strict=True)):
        items[i, :n] = s.item[end - n : end]
    return items, lens.astype(np.int64)


def export_onnx(model: Any) -> bytes:
    """The served graph of a :class:`shopml.recs.model.GRURec` (eval mode, dynamic N and L)."""
    import torch

    model.eval()
    items, lengths = torch.zeros((2, 3), dtype=torch.int64), torch.tensor([3, 1])
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notes on RNNs and batch sizes
        torch.onnx.export(
            model,
            (items, lengths),
            buf,  # type: ignore[arg-type]  # a binary file object works as well as a path
            dynamo=False,
            input_names=["items", "lengths"],
            output_names=["scores"],
            dynamic_axes={"items": {0: "n", 1: "length"}, "lengths": {0: "n"}, "scores": {0: "n"}},
            opset_version=OPSET,
        )
    return buf.getvalue()


def check_parity(
    raw: bytes, model: Any, items: np.ndarray, lengths: np.ndarray, *, k: int = 20, tolerance: float = 1e-4
) -> Parity:
    """Compare ONNX Runtime with PyTorch eager on the given sessions; :class:`ModelError` on a mismatch."""
    import onnxruntime as ort
    import torch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])
    got = sess.run(["scores"], {"items": items, "lengths": lengths})[0]
    model.eval()
    with torch.no_grad():
        want = model(torch.from_numpy(items), torch.from_numpy(lengths)).numpy()
    diff = float(np.abs(got - want).max())
    top_got = np.argsort(-got, axis=1, kind="stable")[:, :k]
    top_want = np.argsort(-want, axis=1, kind="stable")[:, :k]
    same = bool((top_got == top_want).all())
    if not same or not np.isfinite(diff) or diff > tolerance:
        raise ModelError(
            f"ONNX parity check failed on {len(lengths)} held-out sessions: top-{k} identical {same}, "
            f"max |score difference| {diff:.3g} (tolerance {tolerance:g}); the model was not registered"
        )
    return Parity(len(lengths), diff, same, k)
