"""The result of a training run, and the small summaries it carries (flat metrics, importance, CV)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopml.stats import Interval
from shopml.train.config import TrainConfig
from shopml.train.data import Dataset
from shopml.train.diagnostics import pr_auc
from shopml.train.kind_flow import KindModel
from shopml.train.metrics import METRICS
from shopml.train.model import CalibratedModel
from shopml.train.pipeline import positive_scores, weight_kwargs
from shopml.train.select import Candidate, candidate_pipeline
from shopml.train.splits import TimeSplit, rolling_origin
from shopml.train.summary import RunSummary

__all__ = ["TrainResult", "feature_importance", "flat_metrics", "rolling_cv"]


@dataclass
class TrainResult(RunSummary):
    """What :func:`shopml.train.train` produced (the :class:`RunSummary` fields and the bundle).
    ``version`` is the registry's ``ModelVersionInfo`` (None when not registered)."""

    bundle_dir: Path
    report_path: Path
    parity_max_abs_diff: float
    version: Any
    model: CalibratedModel | KindModel  # binary: calibrated and thresholded; other kinds: KindModel


def flat_metrics(metrics: dict[str, Interval], baseline: dict[str, Interval]) -> dict[str, float]:
    """``{"pr_auc": v, "pr_auc_low": l, "pr_auc_high": h, ..., "baseline_pr_auc": ...}`` (finite values)."""
    out: dict[str, float] = {}
    for prefix, table in (("", metrics), ("baseline_", baseline)):
        for k in METRICS:
            ci = table[k]
            for suffix, v in (("", ci.value), ("_low", ci.low), ("_high", ci.high)):
                if np.isfinite(v):
                    out[f"{prefix}{k}{suffix}"] = float(v)
    return out


def feature_importance(pipeline: Any) -> dict[str, float]:
    """XGBoost gain per encoded feature (names from the preprocessor, e.g. ``cat__country_DE``)."""
    model = pipeline.named_steps["model"]
    names = list(pipeline.named_steps["prep"].get_feature_names_out())
    gains = model.get_booster().get_score(importance_type="gain")
    out: dict[str, float] = {}
    for key, value in gains.items():
        idx = int(key[1:]) if key.startswith("f") and key[1:].isdigit() else None
        out[names[idx] if idx is not None and idx < len(names) else key] = float(value)
    return out


def rolling_cv(best: Candidate, ds: Dataset, split: TimeSplit, cfg: TrainConfig) -> dict[str, Any]:
    """Rolling-origin CV (``TimeSeriesSplit`` with a gap of ``gap_days`` worth of rows) over the train and
    validation periods with the selected strategy and parameters at the early-stopped round count."""
    rows = np.concatenate([split.train, split.valid])
    span_days = max((ds.times[rows[-1]] - ds.times[rows[0]]) / np.timedelta64(1, "D"), 1e-9)
    gap_rows = round(rows.size * cfg.split.gap_days / span_days)
    params = best.refit_params()
    folds: list[float] = []
    for tr, te in rolling_origin(rows.size, cfg.split.cv_folds, gap_rows):
        y_tr, y_te = ds.y[rows[tr]], ds.y[rows[te]]
        if y_tr.sum() < 6 or y_te.sum() == 0:
            continue
        pipe = candidate_pipeline(best.strategy, params, ds, cfg, y_tr)
        w = ds.weights_at(rows[tr])
        pipe.fit(ds.frame.iloc[rows[tr]], y_tr, **weight_kwargs(pipe, w))
        w_te = ds.weights_at(rows[te])
        folds.append(pr_auc(y_te, positive_scores(pipe, ds.frame.iloc[rows[te]]), w_te))
    arr = np.asarray(folds)
    return {
        "folds": folds,
        "mean": float(arr.mean()) if arr.size else float("nan"),
        "std": float(arr.std()) if arr.size else float("nan"),
        "gap_rows": gap_rows,
    }
