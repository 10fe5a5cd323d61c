"""ONNX export of a text classifier with the multiclass kind's outputs, INT8 quantisation, parity checks.

The graph takes ``input_ids`` and ``attention_mask``, int64 ``[N, L]`` (dynamic N and L; token ids of the
bundle's ``tokenizer.json``, right-padded with 0 and a mask of 0) and answers ``probabilities`` ``[N, C]``,
``label`` (the class name, as every multiclass bundle) and ``embedding`` ``[N, H]`` (the pooled text
embedding the server logs for drift). Parity: ONNX Runtime's probabilities within ``tolerance`` of
PyTorch's. :func:`quantize_int8` applies ONNX Runtime's dynamic INT8 quantisation (weights of the
matrix products in INT8, activations quantised per call); :func:`quantization_parity` compares the two
graphs on given texts: accuracy within 0.5 point and mean embedding cosine at least 0.99.

Tokenisation (:func:`tokenize`) is the one the server runs: the ``tokenizers`` library, truncation at
``max_length`` tokens, padding to the longest text of the batch.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopml.errors import ModelError

__all__ = [
    "INPUTS",
    "OUTPUTS",
    "QuantParity",
    "export_text_onnx",
    "load_tokenizer",
    "onnx_outputs",
    "pooled_classifier",
    "quantization_parity",
    "quantize_int8",
    "tokenize",
    "torch_outputs",
    "write_text_bundle",
]

INPUTS = ("input_ids", "attention_mask")
#: The graph's outputs after export: the multiclass kind's two, then the embedding.
OUTPUTS = ("probabilities", "label", "embedding")
OPSET = 17
#: What quantisation may cost at most: accuracy points and the mean embedding cosine.
MAX_ACCURACY_DROP = 0.5
MIN_COSINE = 0.99
TOKENIZER_FILE = "tokenizer.json"


def load_tokenizer(path: str | Path) -> Any:
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` with its own padding and truncation switched off
    (:func:`tokenize` does both)."""
    from tokenizers import Tokenizer

    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p} does not exist: a text model needs its tokenizer.json")
    tok = Tokenizer.from_file(str(p))
    tok.no_padding()
    tok.no_truncation()
    return tok


def tokenize(tokenizer: Any, texts: Sequence[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` int64 ``[N, L]``: each text cut at ``max_length`` tokens
    (special tokens included and kept), right-padded with 0 to the longest of the batch."""
    if (tokenizer.truncation or {}).get("max_length") != max_length:
        tokenizer.enable_truncation(max_length=max_length)
    rows = [e.ids for e in tokenizer.encode_batch(list(texts))]
    width = max((len(r) for r in rows), default=1) or 1
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def pooled_classifier(encoder: Any, n_classes: int, seed: int = 0) -> Any:
    """A torch module ``(input_ids, attention_mask) -> (probabilities, embedding)``: ``encoder``'s last
    hidden states mean-pooled over the real tokens, then a linear softmax head (initialised from
    ``seed``)."""
    import torch

    class PooledClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            torch.manual_seed(seed)
            self.head = torch.nn.Linear(int(encoder.config.hidden_size), n_classes)

        def forward(self, ids: Any, mask: Any) -> tuple[Any, Any]:
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            emb = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
            return torch.softmax(self.head(emb), dim=-1), emb

    return PooledClassifier().eval()


def torch_outputs(
    module: Any, ids: np.ndarray, mask: np.ndarray, batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, embedding) of the PyTorch module, float32, in batches of ``batch`` rows."""
    import torch

    module.eval()
    probs, embs = [], []
    with torch.no_grad():
        for i in range(0, len(ids), batch):
            p, e = module(torch.from_numpy(ids[i : i + batch]), torch.from_numpy(mask[i : i + batch]))
            probs.append(p.numpy())
            embs.append(e.numpy())
    return np.concatenate(probs).astype(np.float32), np.concatenate(embs).astype(np.float32)


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def onnx_outputs(
    model_bytes: bytes, ids: np.ndarray, mask: np.ndarray, batch: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, embedding) from ONNX Runtime, in batches of ``batch`` rows."""
    sess = _session(model_bytes)
    probs, embs = [], []
    for i in range(0, len(ids), batch):
        feed = {INPUTS[0]: ids[i : i + batch], INPUTS[1]: mask[i : i + batch]}
        p, e = sess.run(["probabilities", "embedding"], feed)
        probs.append(p)
        embs.append(e)
    return np.concatenate(probs).astype(np.float32), np.concatenate(embs).astype(np.float32)


def export_text_onnx(
    module: Any,
    classes: list[str],
    check: tuple[np.ndarray, np.ndarray],
    tolerance: float = 1e-4,
) -> bytes:
    """Export ``module`` (``forward(input_ids, attention_mask) -> (probabilities, embedding)``), add the
    multiclass kind's ``label``, keep ``embedding``; check parity on ``check`` (``tokenize``'s output,
    also every row on its own, unpadded). :class:`ModelError` when a probability differs by more than
    ``tolerance``."""
    import onnx
    import torch
    from onnx import TensorProto, helper

    from shopml.kinds import get_kind

    module.eval()
    buf = io.BytesIO()
    example = (torch.ones(2, 8, dtype=torch.int64), torch.ones(2, 8, dtype=torch.int64))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        hidden = int(module(*example)[1].shape[1])
        torch.onnx.export(
            module,
            example,
            buf,  # type: ignore[arg-type]  # a binary stream works as the file
            input_names=list(INPUTS),
            output_names=["probabilities", "embedding"],
            dynamic_axes={
                INPUTS[0]: {0: "n", 1: "l"},
                INPUTS[1]: {0: "n", 1: "l"},
                "probabilities": {0: "n"},
                "embedding": {0: "n"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    graph = onnx.load_from_string(buf.getvalue())
    get_kind("multiclass").finish_onnx(graph, {"classes": classes})  # keeps probabilities + label only
    graph.graph.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, hidden]))
    onnx.checker.check_model(graph)
    raw = graph.SerializeToString()
    _check_parity(module, raw, check, tolerance)
    return raw


def _check_parity(module: Any, raw: bytes, check: tuple[np.ndarray, np.ndarray], tolerance: float) -> None:
    ids, mask = check
    want, _ = torch_outputs(module, ids, mask)
    got, _ = onnx_outputs(raw, ids, mask)
    delta = float(np.max(np.abs(got - want))) if want.size else 0.0
    sess = _session(raw)
    for i in range(min(len(ids), 8)):  # single rows at their own length: dynamic N and L
        n = max(int(mask[i].sum()), 1)
        one = sess.run(["probabilities"], {INPUTS[0]: ids[i : i + 1, :n], INPUTS[1]: mask[i : i + 1, :n]})[0]
        delta = max(delta, float(np.max(np.abs(one[0] - want[i]))))
    if not np.isfinite(delta) or delta > tolerance:
        raise ModelError(
            f"ONNX parity check failed: max |probability difference| {delta:.3g} > {tolerance:g} on "
            f"{len(ids)} texts; the model was not exported"
        )


def quantize_int8(onnx_bytes: bytes) -> bytes:
    """ONNX Runtime's dynamic INT8 quantisation of the graph: weights INT8 per output channel (one scale
    per tensor loses too much: MiniLM's embedding cosine falls to ~0.96), activations per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="shopml-quant-") as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        src.write_bytes(onnx_bytes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "please use QuantFormat.QDQ" and pre-processing advice
            quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True)
        return dst.read_bytes()


@dataclass(frozen=True)
class QuantParity:
    """The quantised graph against full precision on the same texts."""

    texts: int
    accuracy_fp32: float  # against the labels, or 1.0 (agreement is measured) without labels
    accuracy_int8: float  # against the labels, or the share of labels equal to full precision's
    accuracy_drop_points: float  # accuracy_fp32 - accuracy_int8, in points (100 = all)
    cosine_mean: float  # embedding cosine, mean over texts
    cosine_min: float
    max_abs_probability_diff: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    def check(self) -> QuantParity:
        """Self when it passed, else :class:`ModelError` saying which bound was missed."""
        if not self.passed:
            raise ModelError(
                f"INT8 quantisation parity missed on {self.texts} texts: accuracy {self.accuracy_int8:.4f}"
                f" vs {self.accuracy_fp32:.4f} full precision (drop {self.accuracy_drop_points:.2f}"
                f" points, at most {MAX_ACCURACY_DROP}), embedding cosine mean {self.cosine_mean:.4f}"
                f" (at least {MIN_COSINE}); keep the full-precision model"
            )
        return self


def quantization_parity(
    fp32: bytes, int8: bytes, ids: np.ndarray, mask: np.ndarray, labels: np.ndarray | None = None
) -> QuantParity:
    """Compare the full-precision and quantised graphs on tokenised texts; ``labels``: class indices
    (without them accuracy is agreement with full precision's labels)."""
    p32, e32 = onnx_outputs(fp32, ids, mask)
    p8, e8 = onnx_outputs(int8, ids, mask)
    y32, y8 = p32.argmax(axis=1), p8.argmax(axis=1)
    if labels is not None:
        truth = np.asarray(labels, dtype=np.int64)
        acc32, acc8 = float(np.mean(y32 == truth)), float(np.mean(y8 == truth))
    else:
        acc32, acc8 = 1.0, float(np.mean(y8 == y32))
    num = (e32.astype(np.float64) * e8).sum(axis=1)
    den = np.linalg.norm(e32.astype(np.float64), axis=1) * np.linalg.norm(e8.astype(np.float64), axis=1)
    cos = num / np.maximum(den, 1e-12)
    drop = 100.0 * (acc32 - acc8)
    mean = float(cos.mean()) if cos.size else 1.0
    return QuantParity(
        texts=len(ids),
        accuracy_fp32=acc32,
        accuracy_int8=acc8,
        accuracy_drop_points=drop,
        cosine_mean=mean,
        cosine_min=float(cos.min()) if cos.size else 1.0,
        max_abs_probability_diff=float(np.max(np.abs(p32 - p8))) if p32.size else 0.0,
        passed=drop <= MAX_ACCURACY_DROP + 1e-9 and mean >= MIN_COSINE,
    )


def write_text_bundle(
    path: str | Path,
    onnx: bytes,
    classes: list[str],
    tokenizer_json: str | Path,
    *,
    name: str = "text",
    quantized: bool = False,
    max_length: int = 64,
    max_chars: int = 2000,
    meta: dict[str, Any] | None = None,
    files: dict[str, bytes | str] | None = None,
) -> Any:
    """Write a servable text bundle: ``model.onnx`` (this module's graph), ``tokenizer.json`` and
    ``bundle.json`` with kind ``multiclass``, ``input_type: "text"``, inputs ``input_ids`` and
    ``attention_mask``, ``classes``, ``max_length`` (tokens), ``max_chars``, ``quantized``; ``meta``
    adds fields (task, target, metrics, lineage), ``files`` more files (a drift reference)."""
    from datetime import UTC, datetime

    from shopml.registry.bundle import BundleMeta, write_bundle

    doc: dict[str, Any] = {
        "name": name,
        "task": "text",
        "kind": "multiclass",
        "input_type": "text",
        "schema": {"features": [{"name": "text", "kind": "text"}]},
        "inputs": list(INPUTS),
        "score_output": "probabilities",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(meta or {}),
        "classes": list(classes),
        "max_length": int(max_length),
        "max_chars": int(max_chars),
        "tokenizer": TOKENIZER_FILE,
        "embedding_output": "embedding",
        "quantized": bool(quantized),
    }
    extra: dict[str, bytes | str] = {TOKENIZER_FILE: Path(tokenizer_json).read_bytes(), **(files or {})}
    return write_bundle(path, BundleMeta.model_validate(doc), onnx, extra)
