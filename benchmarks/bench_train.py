"""Benchmark: ``shopml.train`` on simulated transactions.

1. Training time and peak memory of the default strategy on ~1M transactions, beside a plain XGBoost
   fit on the same training period (the ratio is the cost of search, calibration, diagnostics, bootstrap,
   ONNX export/parity and the report).
2. The default pipeline vs the logistic-regression baseline vs plain XGBoost at threshold 0.5, on the
   same out-of-time test period (PR-AUC with 95% bootstrap intervals, F1/precision/recall at each
   model's threshold, Brier).
3. The imbalance comparison (every strategy, configured parameters, calibrated on validation): test
   PR-AUC with intervals, Brier of raw and calibrated scores, fit time — on a 90-day world of ~150k rows.

Each phase runs in a fresh process so peak RSS is its own.

    .venv/bin/python -m benchmarks.bench_train            # ~1M + ~150k transactions (tens of minutes)
    .venv/bin/python -m benchmarks.bench_train --quick    # small worlds, a smoke run
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

console = Console(width=150)


def _simulate(out: Path, days: int, customers: int, seed: int) -> dict[str, Any]:
    from shopml.simulate import simulate

    if (out / "manifest.json").exists():
        return {"rows": None, "seconds": 0.0}
    start = time.perf_counter()
    result = simulate(out, days=days, customers=customers, seed=seed)
    return {"rows": result.rows["transactions"], "seconds": time.perf_counter() - start}


def _config(data: Path, quick: bool, **overrides: Any) -> Any:
    from shopml.train import preset

    small = (
        {"search": {"n_trials": 2}, "n_resamples": 100, "learning_curve_sizes": [0.5, 1.0]} if quick else {}
    )
    return preset("fraud", data, **{**small, **overrides})


def _train_default(data: Path, quick: bool) -> dict[str, Any]:
    from shopml.train import train

    cfg = _config(data, quick)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(cfg, out_dir=Path(tmp) / "bundle")
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": sum(result.split[p]["rows"] for p in ("train", "valid", "test")),
        "strategy": result.strategy,
        "calibration": result.calibration,
        "threshold": result.threshold,
        "diagnosis": result.diagnosis.summary(),
        "parity": result.parity_max_abs_diff,
        "metrics": {k: v.to_dict() for k, v in result.metrics.items()},
        "baseline": {k: v.to_dict() for k, v in result.baseline.items()},
        "split": result.split,
    }


def _plain_xgboost(data: Path, quick: bool) -> dict[str, Any]:
    """XGBoost with its default parameters (100 rounds, no early stopping, no calibration), threshold 0.5."""
    from shopml.train import XGBParams, bootstrap_metrics, build_pipeline, load_dataset, time_split
    from shopml.train.pipeline import positive_scores

    cfg = _config(data, quick)
    ds = load_dataset(cfg)
    split = time_split(ds.times, ds.y, cfg.split, ds.label_times)
    params = XGBParams(
        n_estimators=100,
        learning_rate=0.3,
        max_depth=6,
        subsample=1.0,
        colsample_bytree=1.0,
        early_stopping_rounds=None,
        n_jobs=cfg.model.n_jobs,
    )
    pipe = build_pipeline("none", ds.numeric, ds.categorical, params, seed=cfg.seed)
    start = time.perf_counter()
    pipe.fit(ds.frame.iloc[split.train], ds.y[split.train])
    seconds = time.perf_counter() - start
    scores = positive_scores(pipe, ds.frame.iloc[split.test])
    m = bootstrap_metrics(
        ds.y[split.test],
        scores,
        0.5,
        costs=cfg.costs,
        fn_costs=ds.fn_costs[split.test],
        n_resamples=cfg.n_resamples,
        seed=cfg.seed,
    )
    return {"seconds": seconds, "metrics": {k: v.to_dict() for k, v in m.items()}}


def _imbalance(data: Path, quick: bool) -> list[dict[str, Any]]:
    from shopml.train import STRATEGIES, ScoreCalibrator, bootstrap_metrics, load_dataset, time_split
    from shopml.train.select import fit_candidate

    cfg = _config(data, quick)
    ds = load_dataset(cfg)
    split = time_split(ds.times, ds.y, cfg.split, ds.label_times)
    y_va, y_te = ds.y[split.valid], ds.y[split.test]
    rows = []
    for strategy in STRATEGIES:
        cand = fit_candidate(strategy, cfg.model, ds, split, cfg)
        raw = cand.pipeline.predict_proba(ds.frame.iloc[split.test])[:, 1].astype(float)
        cal = ScoreCalibrator(cfg.calibration, cfg.isotonic_min_positives).fit(cand.valid_scores, y_va)
        m = bootstrap_metrics(y_te, cal.transform(raw), 0.5, n_resamples=cfg.n_resamples, seed=cfg.seed)
        rows.append(
            {
                "strategy": strategy,
                "pr_auc": m["pr_auc"].to_dict(),
                "brier": m["brier"].value,
                "brier_raw": float(np.mean((raw - y_te) ** 2)),
                "fit_seconds": cand.fit_seconds,
                "rounds": cand.best_iteration,
                "calibration": cal.method_,
            }
        )
    return rows


def _child(fn: Any, args: tuple[Any, ...], queue: Any) -> None:
    out = fn(*args)
    out_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB (Linux)
    queue.put((out, out_rss))


def _isolated(fn: Any, *args: Any) -> tuple[Any, float]:
    """Run ``fn(*args)`` in a fresh process; return its result and its peak RSS in MiB."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{fn.__name__} failed with exit code {proc.exitcode}")
    return result  # type: ignore[no-any-return]


def _ci(d: dict[str, float]) -> str:
    return f"{d['value']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"


def main() -> None:
    """Run the three phases and print their tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small worlds: a smoke run of a few minutes")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "shopml-bench-train")
    args = ap.parse_args()
    big_cust, big_days = (6_000, 60) if args.quick else (75_000, 90)
    mid_cust, mid_days = (6_000, 60) if args.quick else (10_000, 90)
    big = args.out / f"world-{big_cust}-{big_days}"
    mid = args.out / f"world-{mid_cust}-{mid_days}"
    sim, _ = _isolated(_simulate, big, big_days, big_cust, 1)
    _isolated(_simulate, mid, mid_days, mid_cust, 2)

    full, full_rss = _isolated(_train_default, big, args.quick)
    plain, plain_rss = _isolated(_plain_xgboost, big, args.quick)
    t = Table(title=f"1. Training on {full['rows']:,} transactions ({big_days} days, default strategy)")
    for col in ("run", "seconds", "peak RSS MiB", "ratio to plain fit"):
        t.add_column(col, justify="right" if col != "run" else "left")
    t.add_row(
        "shopml train (search, calibration, diagnostics, ONNX, report)",
        f"{full['seconds']:.1f}",
        f"{full_rss:.0f}",
        f"{full['seconds'] / plain['seconds']:.1f}x",
    )
    t.add_row(
        "plain XGBoost fit (100 rounds, train period only)",
        f"{plain['seconds']:.1f}",
        f"{plain_rss:.0f}",
        "1.0x",
    )
    console.print(t)
    console.print(
        f"split: {full['split']}\nstrategy {full['strategy']}, calibration {full['calibration']}, "
        f"ONNX parity max |Δ| {full['parity']:.2e}\ndiagnosis: {full['diagnosis']}"
    )

    t = Table(title="2. Same out-of-time test period (95% bootstrap intervals)")
    for col in ("model", "PR-AUC", "F1", "precision", "recall", "Brier"):
        t.add_column(col, justify="right" if col != "model" else "left")
    for label, m in (
        (f"default pipeline (threshold {full['threshold']:.3f}, max F1 on validation)", full["metrics"]),
        ("logistic baseline (calibrated, own threshold)", full["baseline"]),
        ("plain XGBoost, threshold 0.5", plain["metrics"]),
    ):
        t.add_row(
            label,
            _ci(m["pr_auc"]),
            _ci(m["f1"]),
            f"{m['precision']['value']:.4f}",
            f"{m['recall']['value']:.4f}",
            f"{m['brier']['value']:.5f}",
        )
    console.print(t)

    rows, imb_rss = _isolated(_imbalance, mid, args.quick)
    t = Table(
        title=f"3. Imbalance strategies on the {mid_days}-day world (test period; peak RSS {imb_rss:.0f} MiB)"
    )
    for col in ("strategy", "PR-AUC [95% CI]", "Brier calibrated", "Brier raw", "fit s", "rounds"):
        t.add_column(col, justify="right" if col != "strategy" else "left")
    for r in rows:
        t.add_row(
            r["strategy"],
            _ci(r["pr_auc"]),
            f"{r['brier']:.5f}",
            f"{r['brier_raw']:.5f}",
            f"{r['fit_seconds']:.1f}",
            str(r["rounds"]),
        )
    console.print(t)
    if sim["rows"]:
        console.print(f"(simulated {sim['rows']:,} transactions in {sim['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
