"""Training a model of a kind that is not thresholded (multiclass, regression) through the kind's interface.

The same guards as the binary flow, with every kind-specific decision asked of the kind: the target's
type (``kind.target``), the estimator (``kind.make_estimator``, early-stopped on the validation period),
the selection metric and its direction (``kind.primary_metric``, ``kind.direction``), the metric family
with block-bootstrap intervals (``kind.weighted_metrics`` in :func:`shopml.stats.bootstrap_intervals`),
the fit diagnosis on the primary metric's skill over chance (``kind.chance``, ``kind.skill``), and the
served outputs (``kind.predict``, ``kind.finish_onnx``; the parity check compares ONNX Runtime with the
fitted pipeline). Calibration and the decision threshold belong to the binary flow only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from shopml.errors import InsufficientDataError
from shopml.kinds import ModelKind
from shopml.train.config import TrainConfig, XGBParams
from shopml.train.data import Dataset
from shopml.train.diagnostics import Diagnosis, diagnose
from shopml.train.pipeline import fit_pipeline, make_preprocessor
from shopml.train.select import draws
from shopml.train.splits import TimeSplit

__all__ = ["KindFit", "KindModel", "fit_kind"]

Step = Callable[[str], None]


class KindModel:
    """A fitted pipeline of a kind: ``predict`` gives the served output (what ONNX reproduces)."""

    def __init__(self, pipeline: Pipeline, kind: ModelKind, inputs: list[str], meta: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.kind = kind
        self.inputs = inputs
        self.meta = meta

    @property
    def serving(self) -> Pipeline:
        """The pipeline ONNX exports (no sampler: kinds other than binary do not resample)."""
        return self.pipeline

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The kind's served output for model-input rows."""
        return self.kind.predict(self.pipeline, frame[self.inputs])


@dataclass
class KindFit:
    """The selected model, its test metrics and the tables behind the choice."""

    model: KindModel
    params: XGBParams
    rounds: int
    metrics: dict[str, Any]  # name → shopml.stats.Interval
    test_pred: np.ndarray
    profile_pred: np.ndarray  # served output on the training and validation rows
    diagnosis: Diagnosis
    search_table: list[dict[str, Any]]


def _pipeline(kind: ModelKind, ds: Dataset, params: XGBParams, cfg: TrainConfig) -> Pipeline:
    n_out = len(ds.target_meta.get("classes", ())) or 1
    model = kind.make_estimator(params.model_dump(), cfg.seed, n_out)
    return Pipeline([("prep", make_preprocessor(ds.numeric, ds.categorical)), ("model", model)])


def _rounds(pipe: Pipeline, params: XGBParams) -> int:
    best = getattr(pipe.named_steps["model"], "best_iteration", None)
    return int(best) + 1 if best is not None else params.n_estimators


def _check_classes(ds: Dataset, split: TimeSplit) -> None:
    classes = ds.target_meta.get("classes")
    if classes is None:
        return
    seen = np.unique(ds.y[split.train])
    missing = [classes[i] for i in range(len(classes)) if i not in seen]
    if missing:
        raise InsufficientDataError(
            f"classes {missing} never occur in the training period ({split.train.size} rows); "
            "a multiclass model must see every class: use more history or merge rare classes"
        )


def _diagnosis(kind: ModelKind, ds: Dataset, split: TimeSplit, pipe: Pipeline) -> Diagnosis:
    """The binary flow's rule on skill scores (0 = chance, ``kind.chance``; 1 = perfect). Early stopping
    keeps the best validation round, so the curve-decline part of the rule has nothing to add here."""
    metric = kind.primary_metric
    y_tr, y_va = ds.y[split.train], ds.y[split.valid]

    def skill(rows: np.ndarray, y: np.ndarray) -> float:
        got = kind.point_metrics(y, kind.predict(pipe, ds.frame.iloc[rows]))[metric]
        zero = kind.point_metrics(y, kind.chance(y_tr, y.size))[metric]
        return kind.skill(metric, got, zero)

    found = diagnose(skill(split.train, y_tr), skill(split.valid, y_va), 0.0)
    return replace(found, metric=f"{metric} skill")


def fit_kind(kind: ModelKind, ds: Dataset, split: TimeSplit, cfg: TrainConfig, say: Step) -> KindFit:
    """Search ``cfg.search.n_trials`` XGBoost fits, select on the validation primary metric, then measure
    the selected one on the test period with intervals."""
    _check_classes(ds, split)
    X_tr, X_va = ds.frame.iloc[split.train], ds.frame.iloc[split.valid]
    y_tr, y_va = ds.y[split.train], ds.y[split.valid]
    w_tr, w_va = ds.weights_at(split.train), ds.weights_at(split.valid)
    metric, sign = kind.primary_metric, kind.direction(kind.primary_metric)
    fits: list[tuple[float, Pipeline, XGBParams]] = []
    table: list[dict[str, Any]] = []
    for i, params in enumerate(draws(cfg), start=1):
        say(f"{kind.name}: trial {i}/{cfg.search.n_trials}")
        start = time.perf_counter()
        pipe = fit_pipeline(_pipeline(kind, ds, params, cfg), X_tr, y_tr, X_va, y_va, w_tr, w_va)
        score = kind.point_metrics(y_va, kind.predict(pipe, X_va), w_va)[metric]
        rounds = _rounds(pipe, params)
        table.append(
            {
                "trial": i,
                **{k: getattr(params, k) for k in sorted(cfg.search.space)},
                metric: score,
                "rounds": rounds,
                "fit_seconds": time.perf_counter() - start,
            }
        )
        fits.append((score, pipe, params))
    # the first best trial wins ties (trial 1 holds the configured parameters)
    _, pipe, params = max(fits, key=lambda f: sign * f[0] if np.isfinite(f[0]) else -np.inf)
    model_meta = dict(ds.target_meta)
    fitted = KindModel(pipe, kind, ds.inputs, model_meta)
    say("test metrics with intervals")
    test_pred = fitted.predict(ds.frame.iloc[split.test])
    metrics = kind.intervals(
        ds.y[split.test],
        test_pred,
        n_resamples=cfg.n_resamples,
        level=cfg.level,
        seed=cfg.seed,
        groups=ds.times[split.test].astype("datetime64[h]"),
        sample_weight=ds.weights_at(split.test),
    )
    fit_rows = np.concatenate([split.train, split.valid])
    return KindFit(
        model=fitted,
        params=params,
        rounds=_rounds(pipe, params),
        metrics=metrics,
        test_pred=test_pred,
        profile_pred=fitted.predict(ds.frame.iloc[fit_rows]),
        diagnosis=_diagnosis(kind, ds, split, pipe),
        search_table=table,
    )
