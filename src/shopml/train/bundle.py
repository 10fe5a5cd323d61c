"""Writing the bundle folder: ONNX (parity-checked), fitted pipeline, reference profile, report, meta."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa

from shopml.errors import ModelError
from shopml.registry.bundle import (
    ONNX_FILE,
    PIPELINE_FILE,
    PROFILE_FILE,
    REPORT_FILE,
    BundleMeta,
    ModelBundle,
)
from shopml.train.config import TrainConfig
from shopml.train.data import Dataset
from shopml.train.kind_flow import KindModel
from shopml.train.model import CalibratedModel
from shopml.train.onnx_export import check_parity, convert_pipeline, export_onnx

__all__ = ["registry_params", "write_bundle", "write_kind_bundle"]


def _parity_rows(split: Any, k: int) -> np.ndarray:
    """Evenly spaced held-out (test-period) rows for the ONNX parity check."""
    return split.test[np.unique(np.linspace(0, split.test.size - 1, min(k, split.test.size)).astype(int))]


def write_bundle(
    staging: Path,
    ds: Dataset,
    cfg: TrainConfig,
    model: CalibratedModel,
    split: Any,
    profile_scores: np.ndarray,
    meta: BundleMeta,
    report_html: str,
) -> float:
    """Export and parity-check ONNX, write pipeline, profile, report and ``bundle.json``; return max |Δ|."""
    from shopml.profile import build_profile

    staging.mkdir(parents=True, exist_ok=False)
    onnx_model = export_onnx(model.serving, model.calibrator, ds.inputs, ds.kinds)
    rows = _parity_rows(split, cfg.parity_rows)
    sample = ds.frame.iloc[rows]
    delta = check_parity(onnx_model, sample, model.scores(sample), ds.inputs, ds.kinds, cfg.parity_tolerance)
    (staging / ONNX_FILE).write_bytes(onnx_model.SerializeToString())
    joblib.dump(model, staging / PIPELINE_FILE)
    fit_rows = np.concatenate([split.train, split.valid])
    profile = build_profile(ds.table.take(pa.array(fit_rows)), ds.schema, profile_scores, seed=cfg.seed)
    profile.save(staging / PROFILE_FILE)
    (staging / REPORT_FILE).write_text(report_html, encoding="utf-8")
    meta.parity_max_abs_diff = delta  # type: ignore[attr-defined]  # extra="allow"
    ModelBundle(staging, meta).save_meta()
    return delta


def registry_params(
    best: Any, calibration: str, threshold: float, cfg: TrainConfig, ds: Dataset
) -> dict[str, Any]:
    """Flat run parameters for the registry (MLflow params)."""
    return {
        **{f"xgb.{k}": v for k, v in best.params.model_dump().items()},
        "imbalance": best.strategy,
        "imbalance_requested": cfg.imbalance,
        "calibration": calibration,
        "threshold": threshold,
        "objective": cfg.objective,
        "seed": cfg.seed,
        "search.n_trials": cfg.search.n_trials,
        "rounds": best.best_iteration,
        "data_fingerprint": ds.fingerprint,
        "n_inputs": len(ds.inputs),
    }


def _served(model_bytes: bytes, output: str, frame: Any, ds: Dataset) -> np.ndarray:
    import onnxruntime as ort

    from shopml.train.data import onnx_feeds

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    return np.asarray(session.run([output], onnx_feeds(frame, ds.inputs, ds.kinds))[0])


def write_kind_bundle(
    staging: Path,
    ds: Dataset,
    cfg: TrainConfig,
    model: KindModel,
    split: Any,
    profile_pred: np.ndarray,
    meta: BundleMeta,
    report_html: str,
) -> float:
    """The bundle of a kind without a threshold: ONNX with the kind's outputs, parity-checked against the
    fitted pipeline on held-out rows (max |Δ| ≤ ``parity_tolerance`` × max(1, |value|): outputs are
    float32, whose spacing grows with the value), pipeline, profile (plus the reference distribution of
    categorical drift outputs in ``bundle.json``), report and ``bundle.json``. Returns max |Δ|."""
    from shopml.profile import build_profile

    kind = model.kind
    staging.mkdir(parents=True, exist_ok=False)
    graph = convert_pipeline(model.serving, ds.inputs, ds.kinds)
    info = meta.model_dump(by_alias=True)
    kind.finish_onnx(graph, info)
    raw = graph.SerializeToString()
    sample = ds.frame.iloc[_parity_rows(split, cfg.parity_rows)]
    want = np.asarray(model.predict(sample), dtype=np.float64)
    got = np.asarray(_served(raw, kind.served_output, sample, ds), dtype=np.float64).reshape(want.shape)
    delta = np.abs(got - want)
    worst = float(delta.max()) if delta.size else 0.0
    if not np.isfinite(worst) or (delta > cfg.parity_tolerance * np.maximum(1.0, np.abs(want))).any():
        raise ModelError(
            f"ONNX parity check failed: max |{kind.served_output} difference| {worst:.3g} > "
            f"{cfg.parity_tolerance:g} x max(1, |value|) on {sample.shape[0]} held-out rows; the model "
            "was not registered"
        )
    (staging / ONNX_FILE).write_bytes(raw)
    joblib.dump(model, staging / PIPELINE_FILE)
    head = kind.head(info)
    columns = {**head.columns(profile_pred), **head.log_columns(profile_pred)}  # by log name too
    numeric = [d.column for d in kind.output_drift if np.asarray(columns[d.column]).dtype.kind == "f"]
    categorical = [d.column for d in kind.output_drift if d.column not in numeric]
    fit_rows = np.concatenate([split.train, split.valid])
    scores = columns[numeric[0]] if numeric else None
    profile = build_profile(ds.table.take(pa.array(fit_rows)), ds.schema, scores, seed=cfg.seed)
    profile.save(staging / PROFILE_FILE)
    (staging / REPORT_FILE).write_text(report_html, encoding="utf-8")
    meta.parity_max_abs_diff = worst  # type: ignore[attr-defined]  # extra="allow"
    meta.reference_outputs = {  # type: ignore[attr-defined]
        c: {
            str(k): int(v)
            for k, v in zip(*np.unique(np.asarray(columns[c], dtype=str), return_counts=True), strict=True)
        }
        for c in categorical
    }
    ModelBundle(staging, meta).save_meta()
    return worst
