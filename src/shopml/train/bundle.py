"""Writing the bundle folder: ONNX (parity-checked), fitted pipeline, reference profile, report, meta."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa

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
from shopml.train.model import CalibratedModel
from shopml.train.onnx_export import check_parity, export_onnx

__all__ = ["registry_params", "write_bundle"]


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
