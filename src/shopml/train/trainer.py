"""``train(...)``: one training run from config to a checked bundle (and a registered version).

Order: load and check data → out-of-time split → imbalance comparison → regularisation search →
calibration and threshold on validation → test metrics with bootstrap intervals (model and logistic
baseline) → diagnostics → ONNX export + parity check → reference profile → report → bundle → register.
Every check runs before the registry is touched; a failure leaves no bundle and no version behind.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa

from shopml.config import Workspace
from shopml.registry.bundle import (
    ONNX_FILE,
    PIPELINE_FILE,
    PROFILE_FILE,
    REPORT_FILE,
    BundleMeta,
    ModelBundle,
)
from shopml.train.calibration import ScoreCalibrator, choose_threshold
from shopml.train.config import STRATEGIES, TrainConfig
from shopml.train.data import Dataset, load_dataset
from shopml.train.diagnostics import diagnose, learning_curve, pr_auc, rounds_curve
from shopml.train.lineage import build_lineage
from shopml.train.metrics import bootstrap_metrics
from shopml.train.model import CalibratedModel
from shopml.train.onnx_export import check_parity, export_onnx
from shopml.train.pipeline import build_baseline, build_pipeline, positive_scores
from shopml.train.report import ReportData, render_report
from shopml.train.result import TrainResult, feature_importance, flat_metrics, rolling_cv
from shopml.train.select import compare_strategies, search_params
from shopml.train.splits import time_split

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
        fn_costs=ds.fn_costs[split.valid],
        fp_cost=cfg.costs.false_positive,
    )
    return cal.transform(positive_scores(base, ds.frame.iloc[split.test])), thr.threshold


def _learning(best: Any, ds: Dataset, split: Any, cfg: TrainConfig) -> dict[str, list[float]]:
    params = best.params.model_copy(
        update={"n_estimators": best.best_iteration, "early_stopping_rounds": None}
    )
    X_tr, y_tr = ds.frame.iloc[split.train], ds.y[split.train]
    X_va, y_va = ds.frame.iloc[split.valid], ds.y[split.valid]

    def fit_score(idx: np.ndarray) -> tuple[float, float]:
        y = y_tr[idx]
        if y.sum() < 6 or y.sum() == y.size:
            return float("nan"), float("nan")
        pos = int(y.sum())
        pipe = build_pipeline(
            best.strategy,
            ds.numeric,
            ds.categorical,
            params,
            seed=cfg.seed,
            sampling_ratio=cfg.sampling_ratio,
            pos_weight=(y.size - pos) / pos,
        )
        pipe.fit(X_tr.iloc[idx], y)
        return pr_auc(y, positive_scores(pipe, X_tr.iloc[idx])), pr_auc(y_va, positive_scores(pipe, X_va))

    return learning_curve(fit_score, split.train.size, cfg.learning_curve_sizes)


def _parity_rows(split: Any, k: int) -> np.ndarray:
    """Evenly spaced held-out (test-period) rows for the ONNX parity check."""
    return split.test[np.unique(np.linspace(0, split.test.size - 1, min(k, split.test.size)).astype(int))]


def _write_bundle(
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
    from shopml.monitor.profile import build_profile

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
    say("loading data")
    ds = load_dataset(config, table)
    split = time_split(ds.times, ds.y, config.split, ds.label_times)
    y_tr, y_va, y_te = ds.y[split.train], ds.y[split.valid], ds.y[split.test]
    strategies: list[str] = list(STRATEGIES) if config.imbalance == "auto" else [config.imbalance]
    first, imbalance_rows = compare_strategies(strategies, ds, split, config, say)
    best, search_rows = search_params(first, ds, split, config, say)

    say("calibration, threshold and test metrics")
    cal = ScoreCalibrator(config.calibration, config.isotonic_min_positives).fit(best.valid_scores, y_va)
    valid_cal = cal.transform(best.valid_scores)
    choice = choose_threshold(
        valid_cal,
        y_va,
        config.objective,
        fn_costs=ds.fn_costs[split.valid],
        fp_cost=config.costs.false_positive,
    )
    model = CalibratedModel(best.pipeline, cal, choice.threshold, ds.inputs, ds.kinds)
    test_scores = model.scores(ds.frame.iloc[split.test])
    kw = {
        "fn_costs": ds.fn_costs[split.test],
        "fp_cost": config.costs.false_positive,
        "min_precision": config.recall_at_precision,
        "n_boot": config.bootstrap,
        "level": config.ci_level,
        "seed": config.seed,
    }
    metrics = bootstrap_metrics(y_te, test_scores, choice.threshold, **kw)  # type: ignore[arg-type]
    base_scores, base_thr = _baseline(ds, split, config)
    baseline = bootstrap_metrics(y_te, base_scores, base_thr, **kw)  # type: ignore[arg-type]

    say("diagnostics")
    train_raw = positive_scores(best.pipeline, ds.frame.iloc[split.train])
    rounds = rounds_curve(best.pipeline.named_steps["model"])
    diagnosis = diagnose(
        pr_auc(y_tr, train_raw), best.pr_auc, float(y_tr.mean()), rounds["valid"][: best.best_iteration]
    )
    learning = _learning(best, ds, split, config)
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
    report = ReportData(
        name=name,
        task=config.task,
        strategy=best.strategy,
        threshold=choice.threshold,
        objective=choice.objective,
        calibration=cal.method_,
        metrics=metrics,
        baseline=baseline,
        diagnosis=diagnosis,
        imbalance_table=imbalance_rows,
        search_table=search_rows,
        split=split_info,
        y_test=y_te,
        scores_test=test_scores,
        baseline_test=base_scores,
        rounds=rounds,
        learning=learning,
        importance=feature_importance(best.pipeline),
        lineage=lineage,
        cv=cv,
    )
    html = render_report(report, config.ci_level)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    final = Path(out_dir) if out_dir is not None else Path(ws.root if ws else ".") / "bundles" / name / stamp
    staging = final.parent / f".staging-{final.name}-{uuid.uuid4().hex[:6]}"
    profile_scores = cal.transform(np.concatenate([train_raw, best.valid_scores]))
    version = None
    try:
        delta = _write_bundle(staging, ds, config, model, split, profile_scores, meta, html)
        if final.exists():
            if any(final.iterdir()):
                raise FileExistsError(f"bundle folder {final} exists and is not empty")
            final.rmdir()
        staging.rename(final)
        if do_register and ws is not None:
            say("registering")
            from shopml.registry import Registry

            version = Registry(ws, tracking_uri=tracking_uri).register(
                final,
                params=_params(best, cal.method_, choice.threshold, config, ds),
                metrics=flat,
                tags={"task": config.task, "strategy": best.strategy, "diagnosis": diagnosis.verdict},
                set_alias="auto",
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if version is None and final.exists() and out_dir is None:
            shutil.rmtree(final, ignore_errors=True)
        raise
    report_path = final / REPORT_FILE
    if ws is not None:
        ws.reports_dir.mkdir(parents=True, exist_ok=True)
        report_path = Path(shutil.copy2(final / REPORT_FILE, ws.reports_dir / f"train-{name}-{stamp}.html"))
    return TrainResult(
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
        bundle_dir=final,
        report_path=report_path,
        parity_max_abs_diff=delta,
        version=version,
        model=model,
    )


def _params(best: Any, calibration: str, threshold: float, cfg: TrainConfig, ds: Dataset) -> dict[str, Any]:
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
