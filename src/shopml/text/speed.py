"""How fast each model answers on this machine: one text at a time (p50 and p95 milliseconds, the
tokenisation included) and texts per second in batches of 32, on one thread (ONNX Runtime for the
transformers, scikit-learn for TF-IDF)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["onnx_predictor", "time_predictor"]

BATCH = 32


def onnx_predictor(
    model_bytes: bytes, tokenizer: Any, max_length: int
) -> Callable[[Sequence[str]], np.ndarray]:
    """Texts → probabilities through ONNX Runtime on one thread (tokenising as the server does)."""
    import onnxruntime as ort

    from shopml.text.export import tokenize

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])

    def predict(texts: Sequence[str]) -> np.ndarray:
        ids, mask = tokenize(tokenizer, texts, max_length)
        return np.asarray(sess.run(["probabilities"], {"input_ids": ids, "attention_mask": mask})[0])

    return predict


def time_predictor(
    predict: Callable[[Sequence[str]], Any], texts: Sequence[str], rows: int
) -> dict[str, float]:
    """p50/p95 latency (ms) of ``rows`` single-text calls and the throughput (texts/s) of batches."""
    sample = list(texts[:rows])
    predict(sample[:2])  # warm-up
    times = []
    for t in sample:
        start = time.perf_counter()
        predict([t])
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, len(sample), BATCH):
        predict(sample[i : i + BATCH])
    total = time.perf_counter() - start
    ms = np.asarray(times) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "texts_per_s": len(sample) / total if total > 0 else float("nan"),
    }
