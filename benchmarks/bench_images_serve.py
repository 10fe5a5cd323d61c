"""Serving the product-photo CNN: ``POST /v1/models/images/predict`` with PNG photos vs PyTorch eager.

    .venv/bin/python -m benchmarks.bench_images_serve [--quick] [--duration S] [--json OUT]

The CNN of the default training design (width 32, one 14×14 block, a 3×3 pooling grid, the mirror-image
average of the served probabilities, 10 classes as Fashion-MNIST) is exported to ONNX with its
embedding output (parity-checked), written as an image bundle and registered in a fresh workspace;
``shopml serve`` (one worker, prediction logging on: the photo statistics and the 1,152-float
embedding per photo) runs as its own process and is loaded over
loopback by ``wrk`` (one thread): one photo per request at 1 and 32 connections, and 32 photos per
request at 2 connections. Photos are 500 base64 PNGs of 28×28 random-texture pictures. The weights are
the seeded initial ones: the cost of a forward pass does not depend on their values. PyTorch eager is
the same network in this process (``torch.no_grad``, 1 thread, the probabilities and the embedding)
on ready tensors (beside it, the served graph in ONNX Runtime in this process, 1 thread: the model's share
of the server's time): one photo per call (the c=1 comparison) and 32 per call (the batched comparison: what a
batching eager server could reach at best, with no HTTP, JSON, PNG decoding or log). The PNG decoding
the server does per photo is timed on its own. Figures are medians of per-call times (eager) or wrk's
latency histogram (server).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_serve import _load, load_points, shopml_served

PATH = "/v1/models/images/predict"
CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def photos(n: int, seed: int = 5) -> np.ndarray:
    """``n`` uint8 28×28 photos: a bright blob of random texture on a dark, noisy background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    out = np.empty((n, 28, 28), np.uint8)
    for i in range(n):
        cy, cx, r = rng.uniform(9, 19), rng.uniform(9, 19), rng.uniform(5, 11)
        blob = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r) * rng.uniform(120, 255)
        out[i] = np.clip(blob * rng.uniform(0.6, 1.0, (28, 28)) + rng.normal(10, 6, (28, 28)), 0, 255)
    return out


def png_b64(x: np.ndarray) -> str:
    """A grey photo as base64 PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def write_bundle(root: Path, serving: Any, check: np.ndarray) -> Path:
    """Export ``serving`` (probabilities, label, embedding) and write it as an image bundle."""
    from shopml.images.export import EMBEDDING, export_graph
    from shopml.registry.bundle import ONNX_FILE, BundleMeta, ModelBundle

    exported = export_graph(serving, CLASSES, check)
    meta = {
        "name": "images",
        "task": "images",
        "kind": "multiclass",
        "input_type": "image",
        "schema": {"features": [{"name": "image", "kind": "numeric", "min": 0.0, "max": 1.0},
                                {"name": "category", "kind": "target"}]},
        "inputs": ["image"],
        "id_column": "image_id",
        "image_shape": [1, 28, 28],
        "input_shape": [-1, 1, 28, 28],
        "score_output": "probabilities",
        "target": "category",
        "classes": CLASSES,
        "review_threshold": 0.7,
        "review": {"threshold": 0.7, "met": True, "target": 0.98},
        "embedding_output": EMBEDDING,
        "embedding_dim": exported.embedding_dim,
        "parity_max_abs_diff": exported.parity,
    }  # fmt: skip
    root.mkdir(parents=True)
    (root / ONNX_FILE).write_bytes(exported.graph)
    ModelBundle(root, BundleMeta.model_validate(meta)).save_meta()
    return root


def eager(serving: Any, x: np.ndarray, reps: int) -> dict[str, float]:
    """Median µs per call of PyTorch eager (probabilities and embedding) for 1 and 32 photos."""
    import torch

    serving.eval()
    t = torch.as_tensor(x, dtype=torch.float32).div(255.0).unsqueeze(1)
    out: dict[str, float] = {}
    for size in (1, 32):
        times = []
        for r in range(reps if size == 1 else max(reps // 8, 20)):
            start = (r * size) % (len(t) - size)
            batch = t[start : start + size]
            t0 = time.perf_counter()
            with torch.no_grad():
                serving.outputs(batch)
            times.append(time.perf_counter() - t0)
        out[f"eager_batch{size}_us"] = float(np.median(times) * 1e6)
    return out


def onnx(bundle: Path, x: np.ndarray, reps: int) -> dict[str, float]:
    """Median µs per call of the served graph in ONNX Runtime (1 thread, probabilities and embedding, as
    the server fetches them) for 1 and 32 photos: the model's share of the server's time."""
    from shopml.registry.bundle import ModelBundle
    from shopml.serve.image import ImageCodec
    from shopml.serve.predictor import OnnxPredictor

    b = ModelBundle.load(bundle)
    codec = ImageCodec(b)
    pred = OnnxPredictor(b, extra_outputs=codec.extra_outputs).load(codec.ort_types())
    t = (x.astype(np.float32) / 255.0)[:, None]
    out: dict[str, float] = {}
    for size in (1, 32):
        times = []
        for r in range(reps if size == 1 else max(reps // 8, 20)):
            start = (r * size) % (len(t) - size)
            feeds = codec.feeds(t[start : start + size])
            t0 = time.perf_counter()
            pred.predict(feeds)
            times.append(time.perf_counter() - t0)
        out[f"onnx_batch{size}_us"] = float(np.median(times) * 1e6)
    return out


def decode_us(texts: list[str], reps: int) -> float:
    """Median µs to decode one base64 PNG photo into the served pixels (what the server adds per photo)."""
    from shopml.serve.photo import decode_photo

    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        decode_photo(texts[r % len(texts)], 0, (28, 28))
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e6)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-second load points, fewer eager repetitions")
    ap.add_argument("--duration", type=float, default=None, help="seconds per load point [10; quick 2]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 10.0)
    import torch

    from shopml.config import Workspace
    from shopml.images.cnn import Classifier, Serving, build_cnn
    from shopml.images.config import ImagesConfig
    from shopml.registry import Registry

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = ImagesConfig()
    model = build_cnn(len(CLASSES), cfg.width, cfg.dropout, cfg.extra_block, cfg.pool)
    serving = Serving(Classifier(model, 0.29, 0.35), mirror=cfg.mirror).eval()
    x = photos(500)
    texts = [png_b64(p) for p in x]
    load = os.getloadavg()
    print(
        f"CNN width {cfg.width}, pool {cfg.pool}, extra block {cfg.extra_block}, mirror {cfg.mirror}, "
        f"{len(CLASSES)} classes; wrk: {duration:.0f} s per "
        f"point; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-images-serve-"))
    try:
        bundle = write_bundle(tmp / "bundle", serving, x[:64])
        ws = tmp / "ws"
        Registry(Workspace(ws)).register(bundle, params={}, metrics={})
        reps = 200 if args.quick else 2000
        figures = eager(serving, x, reps)
        figures.update(onnx(bundle, x, reps))
        figures["decode_png_us"] = decode_us(texts, reps)
        one = [json.dumps({"instances": [{"image": {"b64": s}}]}).encode() for s in texts]
        many = [
            json.dumps({"instances": [{"image": {"b64": texts[(i + j) % len(texts)]}} for j in range(32)]})
            for i in range(0, len(texts), 32)
        ]
        with shopml_served(ws, tmp / "serve.log") as base:
            c1, c32 = load_points(base + PATH, one, duration)
            b32 = _load(base + PATH, [m.encode() for m in many], 2, duration)
        print(f"c=1 {c1}\nc=32 {c32}\n32 photos per request, c=2 {b32}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    eager1_ms = figures["eager_batch1_us"] / 1000
    eager32_pps = 32 / (figures["eager_batch32_us"] / 1e6)
    batched_pps = b32["rps"] * 32
    result = {
        "tool": "wrk" if shutil.which("wrk") else "python-asyncio",
        "duration_s": duration,
        "serve_c1_p50_ms": c1["p50_us"] / 1000,
        "serve_c1_p99_ms": c1["p99_us"] / 1000,
        "serve_c1_rps": c1["rps"],
        "serve_c32_photos_per_s": c32["rps"],
        "serve_c32_p50_ms": c32["p50_us"] / 1000,
        "serve_batch32_photos_per_s": batched_pps,
        "serve_batch32_p50_ms": b32["p50_us"] / 1000,
        "errors": c1["errors"] + c32["errors"] + b32["errors"],
        "decode_png_us": figures["decode_png_us"],
        "onnx_1_ms": figures["onnx_batch1_us"] / 1000,
        "onnx_32_photos_per_s": 32 / (figures["onnx_batch32_us"] / 1e6),
        "eager_1_ms": eager1_ms,
        "eager_32_photos_per_s": eager32_pps,
        "ratio_c1_p50_serve_over_eager": c1["p50_us"] / 1000 / eager1_ms,
        "ratio_batch32_serve_over_eager32": batched_pps / eager32_pps,
        "ratio_c32_serve_over_eager32": c32["rps"] / eager32_pps,
    }
    print(
        f"shopml serve  c=1: p50 {result['serve_c1_p50_ms']:.2f} ms, p99 {result['serve_c1_p99_ms']:.2f} ms, "
        f"{c1['rps']:,.0f} photos/s | c=32 one photo each: {c32['rps']:,.0f} photos/s, p50 "
        f"{result['serve_c32_p50_ms']:.2f} ms | 32 photos per request (c=2): {batched_pps:,.0f} photos/s, "
        f"p50 {result['serve_batch32_p50_ms']:.2f} ms | errors {result['errors']:.0f}\n"
        f"PyTorch eager one photo: {eager1_ms:.3f} ms; 32 per call: {eager32_pps:,.0f} photos/s; "
        f"PNG decode {result['decode_png_us']:.0f} µs per photo\n"
        f"ONNX Runtime in process (the served graph): one photo {result['onnx_1_ms']:.3f} ms; 32 per call: "
        f"{result['onnx_32_photos_per_s']:,.0f} photos/s\n"
        f"ratios: c=1 p50 serve/eager {result['ratio_c1_p50_serve_over_eager']:.2f}; "
        f"batched throughput serve/eager-32 {result['ratio_batch32_serve_over_eager32']:.2f} "
        f"(c=32 single photos: {result['ratio_c32_serve_over_eager32']:.2f})"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
