"""Model selection on the validation period: the imbalance-strategy comparison and the small
regularisation search (its budget is ``search.n_trials`` early-stopped fits, stated in the report)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from imblearn.pipeline import Pipeline as ImbPipeline

from shopml.errors import InsufficientDataError
from shopml.train.config import TrainConfig, XGBParams
from shopml.train.data import Dataset
from shopml.train.diagnostics import pr_auc
from shopml.train.metrics import bootstrap_metrics
from shopml.train.pipeline import build_pipeline, fit_pipeline, positive_scores
from shopml.train.splits import TimeSplit

__all__ = [
    "Candidate",
    "candidate_pipeline",
    "compare_strategies",
    "draws",
    "fit_candidate",
    "search_params",
]

Step = Callable[[str], None]


@dataclass
class Candidate:
    """One fitted configuration and its validation results."""

    strategy: str
    params: XGBParams
    pipeline: ImbPipeline
    valid_scores: np.ndarray  # raw (uncalibrated) scores on the validation period
    pr_auc: float
    fit_seconds: float

    @property
    def best_iteration(self) -> int:
        """Number of boosting rounds kept by early stopping."""
        model = self.pipeline.named_steps["model"]
        best = getattr(model, "best_iteration", None)
        return int(best) + 1 if best is not None else int(self.params.n_estimators)

    def refit_params(self) -> XGBParams:
        """``params`` at the early-stopped round count, without early stopping (for refits)."""
        return self.params.model_copy(
            update={"n_estimators": self.best_iteration, "early_stopping_rounds": None}
        )


def candidate_pipeline(
    strategy: str, params: XGBParams, ds: Dataset, cfg: TrainConfig, y: np.ndarray
) -> ImbPipeline:
    """Unfitted pipeline for ``ds``'s features and ``cfg``'s seed and sampling ratio, its class weight
    from the training labels ``y``."""
    pos = max(1, int(y.sum()))
    return build_pipeline(
        strategy,
        ds.numeric,
        ds.categorical,
        params,
        seed=cfg.seed,
        sampling_ratio=cfg.sampling_ratio,
        pos_weight=(y.size - pos) / pos,
    )


def fit_candidate(
    strategy: str, params: XGBParams, ds: Dataset, split: TimeSplit, cfg: TrainConfig
) -> Candidate:
    """Fit ``strategy`` with ``params`` on the training period, early-stopped on validation."""
    y_tr = ds.y[split.train]
    pipe = candidate_pipeline(strategy, params, ds, cfg, y_tr)
    start = time.perf_counter()
    w_tr, w_va = ds.weights_at(split.train), ds.weights_at(split.valid)
    fit_pipeline(
        pipe, ds.frame.iloc[split.train], y_tr, ds.frame.iloc[split.valid], ds.y[split.valid], w_tr, w_va
    )
    seconds = time.perf_counter() - start
    scores = positive_scores(pipe, ds.frame.iloc[split.valid])
    return Candidate(strategy, params, pipe, scores, pr_auc(ds.y[split.valid], scores, w_va), seconds)


def compare_strategies(
    strategies: list[str], ds: Dataset, split: TimeSplit, cfg: TrainConfig, step: Step | None = None
) -> tuple[Candidate, list[dict[str, Any]]]:
    """Fit every strategy with the configured parameters; the best validation PR-AUC wins. Returns the
    winner and the comparison table (PR-AUC with a bootstrap interval, raw Brier, fit time)."""
    rows: list[dict[str, Any]] = []
    best: Candidate | None = None
    y_va = ds.y[split.valid]
    for strategy in strategies:
        if step:
            step(f"imbalance strategy: {strategy}")
        try:
            cand = fit_candidate(strategy, cfg.model, ds, split, cfg)
        except ValueError as exc:  # a sampler that cannot work on this data (too few positives, ratio)
            if len(strategies) == 1:
                raise InsufficientDataError(
                    f"imbalance strategy '{strategy}' failed on this data: {exc}"
                ) from exc
            rows.append({"strategy": strategy, "error": str(exc)})
            continue
        ci = bootstrap_metrics(
            y_va,
            cand.valid_scores,
            0.5,
            n_resamples=min(cfg.n_resamples, 200),
            level=cfg.level,
            seed=cfg.seed,
        )
        rows.append(
            {
                "strategy": strategy,
                "pr_auc": ci["pr_auc"].value,
                "pr_auc_low": ci["pr_auc"].low,
                "pr_auc_high": ci["pr_auc"].high,
                "brier_raw": ci["brier"].value,
                "mean_score": float(np.mean(cand.valid_scores)),
                "positive_rate": float(np.mean(y_va)),
                "rounds": cand.best_iteration,
                "fit_seconds": cand.fit_seconds,
            }
        )
        if best is None or cand.pr_auc > best.pr_auc:
            best = cand
    if best is None:
        raise InsufficientDataError(f"every imbalance strategy failed: {[r.get('error') for r in rows]}")
    for row in rows:
        row["selected"] = row["strategy"] == best.strategy
    return best, rows


def draws(cfg: TrainConfig) -> list[XGBParams]:
    """The search's parameter sets: the configured ones, then distinct random draws from ``space``."""
    rng = np.random.default_rng(cfg.seed)
    out = [cfg.model]
    seen = {cfg.model.model_dump_json()}
    for _ in range(50 * cfg.search.n_trials):
        if len(out) >= cfg.search.n_trials:
            break
        patch = {k: vals[int(rng.integers(len(vals)))] for k, vals in sorted(cfg.search.space.items())}
        params = cfg.model.model_copy(update={k: type(getattr(cfg.model, k))(v) for k, v in patch.items()})
        key = params.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(params)
    return out


def search_params(
    first: Candidate, ds: Dataset, split: TimeSplit, cfg: TrainConfig, step: Step | None = None
) -> tuple[Candidate, list[dict[str, Any]]]:
    """Random search over ``search.space`` for ``first.strategy``; ``first`` (the configured parameters)
    counts as trial 1. Returns the best candidate and one row per trial."""
    best = first
    rows = [{"trial": 1, **_knobs(first.params, cfg), "pr_auc": first.pr_auc, "rounds": first.best_iteration}]
    for i, params in enumerate(draws(cfg)[1:], start=2):
        if step:
            step(f"regularisation search: trial {i}/{cfg.search.n_trials}")
        cand = fit_candidate(first.strategy, params, ds, split, cfg)
        rows.append({"trial": i, **_knobs(params, cfg), "pr_auc": cand.pr_auc, "rounds": cand.best_iteration})
        if cand.pr_auc > best.pr_auc:
            best = cand
    return best, rows


def _knobs(params: XGBParams, cfg: TrainConfig) -> dict[str, Any]:
    return {k: getattr(params, k) for k in sorted(cfg.search.space)}
