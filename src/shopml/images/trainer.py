"""``train_images``: a run of :mod:`shopml.images.flow`, exported, reported, bundled and registered as a
``multiclass`` model (default name ``images``) through the same publication as the tabular models."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopml.config import Workspace
from shopml.images.config import ImagesConfig
from shopml.images.export import EMBEDDING, Export
from shopml.images.flow import ImagesRun, run_images

__all__ = ["IMAGE_SHAPE", "ImagesResult", "reference_outputs", "review_of", "train_images"]

#: One served photo: channels, height, width (the ONNX input is ``[N, *IMAGE_SHAPE]``).
IMAGE_SHAPE = (1, 28, 28)

PARITY_ROWS = 256
WEIGHTS_FILE = "model.pt"


@dataclass
class ImagesResult:
    """A finished run: what it measured, where the bundle and report are, the registry version."""

    run: ImagesRun
    bundle_dir: Path
    report_path: Path
    parity_max_abs_diff: float
    version: Any

    def summary(self) -> dict[str, Any]:
        """The headline figures, JSON-ready."""
        r = self.run
        return {
            "metrics": {k: iv.to_dict() for k, iv in r.metrics.items()},
            "baselines": {
                n: {k: iv.to_dict() for k, iv in b["metrics"].items()} for n, b in r.baselines.items()
            },
            "ece": r.ece,
            "review": r.review,
            "train_seconds": r.train_seconds,
            "peak_memory_mb": r.peak_memory_mb,
            "epochs": len(r.fit.history),
            "best_epoch": r.fit.best_epoch,
            "parity_max_abs_diff": self.parity_max_abs_diff,
            "gradient_diagnosis": r.fit.gradient_diagnosis.verdict,
            "fit_diagnosis": r.fit.fit_diagnosis.verdict if r.fit.fit_diagnosis else None,
        }


def review_of(run: ImagesRun) -> dict[str, Any]:
    """The served auto-assign rule: the validation threshold reaching the precision target, or — when
    no threshold does — 1.0 with ``met`` false, and the server then sends every photo to review."""
    chosen = run.review["validation"]
    met = math.isfinite(chosen["threshold"])
    return {
        "threshold": float(chosen["threshold"]) if met else 1.0,
        "met": met,
        "target": float(chosen["target"]),
        "coverage": float(chosen["coverage"]),
        "precision": float(chosen["precision"]) if met else None,
        "chosen_on": "validation",
    }


def reference_outputs(run: ImagesRun) -> dict[str, dict[str, int]]:
    """``bundle.json``'s ``reference_outputs``: how often the model predicts each category on the
    validation photos (never trained on, drawn like the served ones), the reference of the multiclass
    kind's output check (chi-square on the logged ``predicted_label``). Every class is named, zero
    counts included."""
    import numpy as np

    counts = np.bincount(np.argmax(run.valid_proba, axis=1), minlength=len(run.classes))
    return {"predicted_label": {c: int(n) for c, n in zip(run.classes, counts, strict=True)}}


def _meta(run: ImagesRun, cfg: ImagesConfig, exported: Export) -> dict[str, Any]:
    from shopml.train.lineage import build_lineage

    flat: dict[str, float] = {}
    for k, iv in run.metrics.items():
        flat.update(
            {f"{k}{s}": v for s, v in (("", iv.value), ("_low", iv.low), ("_high", iv.high)) if v == v}
        )
    flat["ece"] = run.ece
    model = run.serving.classifier
    review = review_of(run)
    return {
        "name": cfg.name,
        "task": "images",
        "kind": "multiclass",
        "schema": {
            "features": [
                {"name": "image", "kind": "numeric", "min": 0.0, "max": 1.0},
                {"name": "category", "kind": "target"},
            ]
        },
        "inputs": ["image"],
        "id_column": "image_id",  # the business key a served photo may carry (review outcomes join on it)
        "input_type": "image",
        "input_shape": [-1, 1, 28, 28],
        "image_shape": list(IMAGE_SHAPE),
        "input_range": [0.0, 1.0],
        "normalisation": {"mean": float(model.mean), "std": float(model.std)},
        "score_output": "probabilities",
        "objective": "macro_f1",
        "target": "category",
        "classes": run.classes,
        "metrics": flat,
        "review_threshold": review["threshold"],
        "threshold": review["threshold"],  # the log's decision (top probability >= it) is auto_assign
        "review": review,
        "reference_outputs": reference_outputs(run),
        "embedding_output": EMBEDDING,
        "embedding_dim": exported.embedding_dim,
        "embedding_parity_max_abs_diff": exported.embedding_parity,
        "diagnosis": run.fit.fit_diagnosis.to_dict() if run.fit.fit_diagnosis else None,
        "gradient_diagnosis": run.fit.gradient_diagnosis.to_dict(),
        "parity_max_abs_diff": exported.parity,
        "lineage": build_lineage(
            data_fingerprint=run.fingerprint,
            data_source=str(run.data.source),
            config=cfg.to_dict(),
            seed=cfg.seed,
        ),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def train_images(
    cfg: ImagesConfig,
    *,
    ws: Workspace | None,
    register: bool = True,
    tracking_uri: str | None = None,
    out_dir: str | Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> ImagesResult:
    """Train, measure, export (parity-checked), report, write the bundle and register it."""
    import numpy as np
    import torch

    from shopml.images.export import export_graph
    from shopml.images.reference import save_reference
    from shopml.images.report import render_images_report
    from shopml.registry.bundle import ONNX_FILE, REPORT_FILE, BundleMeta, ModelBundle
    from shopml.train.publish import RegisterArgs, publish

    run = run_images(cfg, say)
    say("ONNX export and parity check")
    rows = np.unique(
        np.linspace(0, len(run.data.test_y) - 1, min(PARITY_ROWS, len(run.data.test_y))).astype(int)
    )
    exported = export_graph(run.serving, run.classes, run.data.test_x[rows], cfg.parity_tolerance)
    onnx_bytes, parity = exported.graph, exported.parity
    meta = BundleMeta.model_validate(_meta(run, cfg, exported))
    html = render_images_report(run, name=cfg.name, parity=parity, config=cfg.to_dict())

    def write(staging: Path) -> float:
        staging.mkdir(parents=True, exist_ok=False)
        (staging / ONNX_FILE).write_bytes(onnx_bytes)
        torch.save(run.serving.classifier.state_dict(), staging / WEIGHTS_FILE)
        (staging / REPORT_FILE).write_text(html, encoding="utf-8")
        ModelBundle(staging, meta).save_meta()
        save_reference(staging, run, cfg.valid_share, cfg.seed)  # the monitor's drift reference
        return parity

    params = {f"images.{k}": v for k, v in cfg.to_dict().items()}
    params.update(kind="multiclass", data_fingerprint=run.fingerprint, epochs_run=len(run.fit.history))
    registration = RegisterArgs(
        params=params,
        metrics={**meta.metrics, "train_seconds": run.train_seconds, "peak_memory_mb": run.peak_memory_mb},
        tags={"task": "images", "kind": "multiclass",
              "diagnosis": run.fit.fit_diagnosis.verdict if run.fit.fit_diagnosis else "none"},
        tracking_uri=tracking_uri,
    )  # fmt: skip
    final, delta, version, report = publish(
        cfg.name, write, ws=ws, out_dir=out_dir, registration=registration if register else None, say=say
    )
    return ImagesResult(run, final, report, delta, version)
