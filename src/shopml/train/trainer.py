"""``train(...)``: one training run from config to a checked bundle (and a registered version).

Order: load and check data → out-of-time split → imbalance comparison → regularisation search →
calibration and threshold on validation → test metrics with bootstrap intervals (model and logistic
baseline) → diagnostics → ONNX export + parity check → reference profile → report → bundle → register.
Every check runs before the registry is touched; a failure leaves no bundle and no version behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopml.config import Workspace
from shopml.kinds import get_kind
from shopml.registry.bundle import BundleMeta
from shopml.train.bundle import registry_params, write_bundle
from shopml.train.calibration import ScoreCalibrator, choose_threshold
from shopml.train.config import STRATEGIES, WEIGHTABLE, TrainConfig
from shopml.train.data import Dataset, load_dataset
from shopml.train.diagnostics import diagnose, learning_curve, pr_auc, rounds_curve
from shopml.train.kind_trainer import train_kind
from shopml.train.lineage import build_lineage
from shopml.train.metrics import bootstrap_metrics
from shopml.train.model import CalibratedModel
from shopml.train.pipeline import build_baseline, positive_scores, weight_kwargs
from shopml.train.publish import RegisterArgs, publish
from shopml.train.report import ReportData, render_report
from shopml.train.result import TrainResult, feature_importance, flat_metrics, rolling_cv
from shopml.train.select import Candidate, candidate_pipeline, compare_strategies, search_params
from shopml.train.splits import time_split
from shopml.train.summary import RunSummary

__all__ = ["train"]

Step = Callable[[str], None]


def _baseline(ds: Dataset, split: Any, cfg: TrainConfig) -> tuple[np.ndarray, float]:
    """Logistic regression fitted on train, calibrated and thresholded on validation; test scores."""
    base = build_baseline(ds.numeric, ds.categorical, cfg.seed).fit(
        ds.frame.iloc[split.train], ds.y[split.train]
    )
    va = positive_scores(base, ds.frame.iloc[split.valid])
    cal = ScoreCalibrator(cfg.calibration, cfg.isotonic_min_positives).fit(va, ds.y[split.valid])
    thr = choose_threshold(
        cal.transform(va),
        ds.y[split.valid],
        cfg.objective,
        costs=cfg.costs,
        fn_costs=ds.fn_costs[split.valid],
    )
    return cal.transform(positive_scores(base, ds.frame.iloc[split.test])), thr.threshold


def _learning(
    best: Candidate, ds: Dataset, split: Any, cfg: TrainConfig, full: tuple[float, float]
) -> dict[str, list[float]]:
    """Learning curve; the full-size point is the selected model itself (``full`` = its two scores)."""
    params = best.refit_params()
    X_tr, y_tr = ds.frame.iloc[split.train], ds.y[split.train]
    X_va, y_va = ds.frame.iloc[split.valid], ds.y[split.valid]
    w_tr = ds.weights_at(split.train)
    w_va = ds.weights_at(split.valid)

    def fit_score(idx: np.ndarray) -> tuple[float, float]:
        if idx.size == y_tr.size:
            return full
        y = y_tr[idx]
        if y.sum() < 6 or y.sum() == y.size:
            return float("nan"), float("nan")
        pipe = candidate_pipeline(best.strategy, params, ds, cfg, y)
        w = None if w_tr is None else w_tr[idx]
        pipe.fit(X_tr.iloc[idx], y, **weight_kwargs(pipe, w))
        return pr_auc(y, positive_scores(pipe, X_tr.iloc[idx]), w), pr_auc(
            y_va, positive_scores(pipe, X_va), w_va
        )

    return learning_curve(fit_score, split.train.size, cfg.learning_curve_sizes)


def train(
    config: TrainConfig,
    *,
    table: pa.Table | None = None,
    out_dir: str | Path | None = None,
    workspace: Workspace | str | Path | None = None,
    register: bool | None = None,
    tracking_uri: str | None = None,
    step: Step | None = None,
) -> TrainResult:
    """Train ``config`` (on ``table`` if given, else ``config.table``), write the bundle to ``out_dir``
    (default ``WORKSPACE/bundles/NAME/STAMP``) and, when ``register`` (default: a workspace was given),
    register it in the workspace's registry. Errors are :class:`shopml.errors.ShopmlError` subclasses."""
    say = step or (lambda _msg: None)
    ws = Workspace(Path(workspace)) if isinstance(workspace, str | Path) else workspace
    do_register = (ws is not None) if register is None else register
    if do_register and ws is None:
        raise ValueError("register=True needs a workspace")
    kind = get_kind(config.kind)
    if not kind.thresholded:  # calibration, imbalance and the threshold are the binary flow's own
        return train_kind(
            config,
            kind,
            table=table,
            out_dir=out_dir,
            ws=ws,
            do_register=do_register,
            tracking_uri=tracking_uri,
            say=say,
        )
    say("loading data")
    ds = load_dataset(config, table)
    split = time_split(ds.times, ds.y, config.split, ds.label_times)
    y_tr, y_va, y_te = ds.y[split.train], ds.y[split.valid], ds.y[split.test]
    strategies: list[str] = list(STRATEGIES) if config.imbalance == "auto" else [config.imbalance]
    if ds.weights is not None:  # resamplers add or drop rows: per-row weights cannot follow them
        strategies = [s for s in strategies if s in WEIGHTABLE]
    first, imbalance_rows = compare_strategies(strategies, ds, split, config, say)
    best, search_rows = search_params(first, ds, split, config, say)

    say("calibration, threshold and test metrics")
    # per-row weights (``weight_column``) count in calibration, the threshold and the test metrics too
    w_va = ds.weights_at(split.valid)
    cal = ScoreCalibrator(config.calibration, config.isotonic_min_positives)
    cal.fit(best.valid_scores, y_va, sample_weight=w_va)
    valid_cal = cal.transform(best.valid_scores)
    choice = choose_threshold(
        valid_cal,
        y_va,
        config.objective,
        costs=config.costs,
        fn_costs=ds.fn_costs[split.valid],
        sample_weight=w_va,
    )
    model = CalibratedModel(best.pipeline, cal, choice.threshold, ds.inputs, ds.kinds)
    test_scores = model.scores(ds.frame.iloc[split.test])
    kw = {
        "fn_costs": ds.fn_costs[split.test],
        "costs": config.costs,
        "min_precision": config.recall_at_precision,
        "n_resamples": config.n_resamples,
        "level": config.level,
        "seed": config.seed,
        "groups": ds.times[split.test].astype("datetime64[h]"),  # hour blocks: fraud comes in bursts
        "sample_weight": ds.weights_at(split.test),
    }
    metrics = bootstrap_metrics(y_te, test_scores, choice.threshold, **kw)  # type: ignore[arg-type]
    base_scores, base_thr = _baseline(ds, split, config)
    baseline = bootstrap_metrics(y_te, base_scores, base_thr, **kw)  # type: ignore[arg-type]

    say("diagnostics")
    train_raw = positive_scores(best.pipeline, ds.frame.iloc[split.train])
    rounds = rounds_curve(best.pipeline.named_steps["model"])
    w_tr = ds.weights_at(split.train)
    diagnosis = diagnose(
        pr_auc(y_tr, train_raw, w_tr), best.pr_auc, float(y_tr.mean()), rounds["valid"][: best.best_iteration]
    )
    learning = _learning(best, ds, split, config, (diagnosis.train_score, diagnosis.valid_score))
    cv = rolling_cv(best, ds, split, config) if config.split.cv_folds else None

    say("bundle: ONNX export, parity check, profile, report")
    name = config.model_name
    split_info = split.describe(ds.times, ds.y)
    lineage = build_lineage(
        data_fingerprint=ds.fingerprint,
        data_source=str(config.table),
        config=config.model_dump(mode="json"),
        seed=config.seed,
    )
    flat = flat_metrics(metrics, baseline)
    meta = BundleMeta.model_validate(
        {
            "name": name,
            "task": config.task,
            "schema": ds.schema.to_dict(),
            "inputs": ds.inputs,
            "threshold": float(min(1.0, max(0.0, choice.threshold))),
            "objective": choice.objective,
            "id_column": config.id_column,
            "time_column": config.time_column,
            "target": config.target,
            "costs": config.costs,
            "metrics": flat,
            "lineage": lineage,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "imbalance_strategy": best.strategy,
            "calibration": cal.method_,
            "diagnosis": diagnosis.to_dict(),
            "imbalance_table": imbalance_rows,
            "split": split_info,
            "params": best.params.model_dump(),
        }
    )
    summary = RunSummary(
        name=name,
        task=config.task,
        strategy=best.strategy,
        calibration=cal.method_,
        threshold=choice.threshold,
        objective=choice.objective,
        metrics=metrics,
        baseline=baseline,
        diagnosis=diagnosis,
        imbalance_table=imbalance_rows,
        search_table=search_rows,
        split=split_info,
        cv=cv,
    )
    report = ReportData(
        **summary.summary_fields(),
        y_test=y_te,
        scores_test=test_scores,
        baseline_test=base_scores,
        rounds=rounds,
        learning=learning,
        importance=feature_importance(best.pipeline),
        lineage=lineage,
    )
    html = render_report(report, config.level)
    profile_scores = cal.transform(np.concatenate([train_raw, best.valid_scores]))

    final, delta, version, report_path = publish(
        name,
        lambda staging: write_bundle(staging, ds, config, model, split, profile_scores, meta, html),
        ws=ws,
        out_dir=out_dir,
        registration=RegisterArgs(
            params=registry_params(best, cal.method_, choice.threshold, config, ds),
            metrics=flat,
            tags={"task": config.task, "strategy": best.strategy, "diagnosis": diagnosis.verdict},
            tracking_uri=tracking_uri,
        )
        if do_register
        else None,
        say=say,
    )
    return TrainResult(
        **summary.summary_fields(),
        bundle_dir=final,
        report_path=report_path,
        parity_max_abs_diff=delta,
        version=version,
        model=model,
    )
