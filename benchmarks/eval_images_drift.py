"""Drift on product photos, Failing-Loudly style: detection power of the embedding test (MMD on the
penultimate layer) and of the photo-statistics tests (KS on brightness, contrast, sharpness) per
corruption, severity and window size, and their false-alarm rate on clean windows.

    nice -n 10 .venv/bin/python -m benchmarks.eval_images_drift [--runs 20] [--json out.json]
    .venv/bin/python -m benchmarks.eval_images_drift --data /usr/share/datasets/fashion-mnist
    .venv/bin/python -m benchmarks.eval_images_drift --quick      # a smoke run, about 20 s

The figures on docs/benchmarks/images.md ("Watching photos", about 5–6 minutes each on one thread):

    .venv/bin/python -m benchmarks.eval_images_drift --runs 50 --windows 50 200 500 --severities 0 1 2 \
        --calib-runs 1000 --calib-windows 50 200 500 [--data /usr/share/datasets/fashion-mnist]

A quick CNN is trained on every category but the last (simulated photos by default); its reference
sample is what training saves beside the bundle (held-out validation photos). Each run draws a window of
test photos of the seen categories, corrupts it (or not: the clean rows), and runs the monitor's checks
(:func:`shopml.monitor.drift.embedding.compare_sample`) at alpha 0.05. ``new_category`` replaces a share
of the window by test photos of the held-out category. Rates come with Wilson 95% intervals.

First, the tests' own calibration: clean reference/current splits of the test photos of the seen
categories (``--calib-runs`` per size in ``--calib-windows``), fresh rows on both sides every time, so
the splits are exchangeable and a window's false-alarm rate must sit inside the binomial band of alpha
(the central 95% of Binomial(runs, alpha)). It is counted twice: as the monitor decides (a KS column
also needs the numeric relevance floor, so its rate may sit below alpha) and on significance alone
(every p-value corrected together, no floor: the rate the correction promises). The clean rows of the
table are another thing: windows of test photos against the one reference sample training wrote, so all
their runs share that reference and their rate is conditional on it (runs are not independent draws of
the false-alarm rate).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def _band(n: int, level: float, coverage: float = 0.95) -> tuple[int, int]:
    """Central ``coverage`` interval of Binomial(n, level): the alarm counts a calibrated test lands in."""
    from scipy import stats

    tail = (1 - coverage) / 2
    return int(stats.binom.ppf(tail, n, level)), int(stats.binom.isf(tail, n, level))


def _alarms(checks: list[Any], alpha: float, correction: str) -> dict[str, bool]:
    """Which checks alarmed in one window, as the monitor decides and on significance alone (all raw
    p-values corrected together, no relevance floor)."""
    from shopml.monitor.drift.registry import adjust_p_values

    mmd = any(c.drifted for c in checks if c.test == "mmd")
    ks = any(c.drifted for c in checks if c.test == "ks")
    tested = [c for c in checks if c.p_value is not None]
    adjusted = adjust_p_values([c.p_value for c in tested], correction)
    return {"embedding": mmd, "stats": ks, "either": mmd or ks, "significant": bool(np.any(adjusted < alpha))}


def _seen_copy(data: Path, out: Path) -> tuple[Any, np.ndarray]:
    """Write the photos of every category but the last to ``out``; return the full image set and the
    test photos of the held-out category."""
    from shopml.images.idx import load_images, write_idx

    ds = load_images(data)
    last = len(ds.classes) - 1
    keep_tr, keep_te = ds.train_y != last, ds.test_y != last
    out.mkdir(parents=True)
    write_idx(out / "train-images-idx3-ubyte.gz", ds.train_x[keep_tr])
    write_idx(out / "train-labels-idx1-ubyte.gz", ds.train_y[keep_tr].astype(np.uint8))
    write_idx(out / "t10k-images-idx3-ubyte.gz", ds.test_x[keep_te])
    write_idx(out / "t10k-labels-idx1-ubyte.gz", ds.test_y[keep_te].astype(np.uint8))
    (out / "classes.json").write_text(json.dumps(ds.classes[:last]) + "\n", encoding="utf-8")
    return ds, ds.test_x[~keep_te]


def evaluate(
    data: Path | None,
    runs: int,
    windows: list[int],
    severities: list[int],
    max_train: int,
    calib_runs: int = 200,
    calib_windows: tuple[int, ...] = (50, 200),
    seed: int = 0,
) -> dict[str, Any]:
    """Train; the tests' false-alarm rate on ``calib_runs`` clean splits per size in ``calib_windows``;
    then ``runs`` windows per (corruption, severity, size) and per size on clean photos against the
    training reference."""
    import torch

    from shopml.images import ImagesConfig, train_images
    from shopml.images.corrupt import CORRUPTIONS, SEVERITIES, corrupt
    from shopml.images.reference import embed
    from shopml.images.stats import image_stats
    from shopml.monitor.drift.config import DriftConfig
    from shopml.monitor.drift.embedding import compare_sample, load_sample

    torch.set_num_threads(1)
    drift_cfg = DriftConfig()
    load_start = os.getloadavg()
    source = "simulated" if data is None else str(data)
    with tempfile.TemporaryDirectory(prefix="eval-images-drift-") as tmp:
        root = Path(tmp)
        if data is None:
            from shopml.simulate.images import write_images

            data = root / "photos"
            write_images(data, per_class=1000, seed=seed)
        ds, unseen = _seen_copy(data, root / "seen")
        cfg = ImagesConfig.make(
            quick=True, data=root / "seen", baselines=False, max_train=max_train, seed=seed
        )
        start = time.perf_counter()
        result = train_images(cfg, ws=None, register=False, out_dir=root / "bundle")
        train_s = time.perf_counter() - start
        reference = load_sample(result.bundle_dir)
        if reference is None:
            raise RuntimeError("training wrote no reference sample")
        serving = result.run.serving
        pool = ds.test_x[ds.test_y != len(ds.classes) - 1]

        def judge(x: np.ndarray) -> dict[str, bool]:
            checks = compare_sample(reference, {"embedding": embed(serving, x), **image_stats(x)}, drift_cfg)
            return _alarms(checks, drift_cfg.alpha, drift_cfg.correction)

        # calibration: clean reference/current splits of held-out photos (the test alone, no training
        # reference): exchangeable rows, so the false-alarm rate must sit near alpha
        too_big = [n for n in calib_windows if 2 * n > len(pool)]
        if too_big:
            raise ValueError(f"calibration windows {too_big} need 2 × rows ≤ {len(pool)} held-out photos")
        cols = {"embedding": embed(serving, pool), **image_stats(pool)}
        calibration: list[dict[str, Any]] = []
        for n in calib_windows:
            hits = {"embedding": 0, "stats": 0, "either": 0, "significant": 0}
            for r in range(calib_runs):
                idx = np.random.default_rng([seed, n, r, 99]).choice(len(pool), 2 * n, replace=False)
                ref = {k: v[idx[:n]] for k, v in cols.items()}
                checks = compare_sample(ref, {k: v[idx[n:]] for k, v in cols.items()}, drift_cfg)
                for k, v in _alarms(checks, drift_cfg.alpha, drift_cfg.correction).items():
                    hits[k] += v
            band = _band(calib_runs, drift_cfg.alpha)
            row: dict[str, Any] = {"window": n, "runs": calib_runs, "band": band}
            for k, v in hits.items():
                row[k], row[f"{k}_ci"], row[f"{k}_count"] = v / calib_runs, _wilson(v, calib_runs), v
            calibration.append(row)

        rows: list[dict[str, Any]] = []
        conditions = [("clean", 0, 0.0)] + [
            (name, s, SEVERITIES[name][s]) for name in CORRUPTIONS for s in severities
        ]
        test_s = time.perf_counter()
        for name, level, severity in conditions:
            for n in windows:
                hits = {"embedding": 0, "stats": 0, "either": 0, "significant": 0}
                for r in range(runs):
                    rng = np.random.default_rng(
                        [seed, n, r, level, CORRUPTIONS.index(name) + 1 if name != "clean" else 0]
                    )
                    x = pool[rng.choice(len(pool), n, replace=n > len(pool))]
                    if name != "clean":
                        x = corrupt(x, name, severity, rng, pool=unseen)
                    for k, v in judge(x).items():
                        hits[k] += v
                row = {"corruption": name, "severity": severity, "window": n, "runs": runs}
                for k, v in hits.items():
                    row[k] = v / runs
                    row[f"{k}_ci"] = _wilson(v, runs)
                rows.append(row)
        return {
            "data": source,
            "classes_seen": len(ds.classes) - 1,
            "held_out_category": ds.classes[-1],
            "reference_rows": len(reference["embedding"]),
            "embedding_dim": int(reference["embedding"].shape[1]),
            "test_accuracy": float(result.run.metrics["accuracy"].value),
            "train_seconds": train_s,
            "test_seconds_per_window": (time.perf_counter() - test_s)
            / max(1, len(conditions) * len(windows) * runs),
            "alpha": drift_cfg.alpha,
            "correction": drift_cfg.correction,
            "min_effect_numeric": drift_cfg.min_effect_numeric,
            "load_average": {"start": load_start, "end": os.getloadavg()},
            "calibration": calibration,
            "rows": rows,
        }


def _ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _print(summary: dict[str, Any]) -> None:
    s = summary
    print(
        f"{s['data']}: {s['classes_seen']} categories seen (held out: {s['held_out_category']}),"
        f" test accuracy {s['test_accuracy']:.3f}, reference {s['reference_rows']} photos,"
        f" embedding D={s['embedding_dim']}, {s['test_seconds_per_window'] * 1000:.0f} ms a window"
    )
    load = s["load_average"]
    print(f"load average (1 min) {load['start'][0]:.2f} at the start, {load['end'][0]:.2f} at the end")
    print(
        f"false alarms on clean reference/current splits (alpha {s['alpha']}, {s['correction']}"
        f" correction; KS relevance floor {s['min_effect_numeric']}):"
    )
    for c in s["calibration"]:
        lo, hi = c["band"]
        inside = "inside" if lo <= c["significant_count"] <= hi else "OUTSIDE"
        print(
            f"  {c['window']:>4} rows a side, {c['runs']} splits: embedding {c['embedding']:.3f}"
            f" {_ci(c['embedding_ci'])}, stats {c['stats']:.3f} {_ci(c['stats_ci'])},"
            f" either {c['either']:.3f} {_ci(c['either_ci'])}; significance alone"
            f" {c['significant_count']} alarms = {c['significant']:.3f} {_ci(c['significant_ci'])},"
            f" {inside} the 95% band {lo}–{hi} of Binomial({c['runs']}, {s['alpha']})"
        )
    head = ("corruption", "severity", "window", "embedding (MMD)", "stats (KS)", "either", "signif.")
    print(f"{head[0]:<13}{head[1]:>9}{head[2]:>8}{head[3]:>18}{head[4]:>14}{head[5]:>9}{head[6]:>9}")
    for r in summary["rows"]:
        print(
            f"{r['corruption']:<13}{r['severity']:>9g}{r['window']:>8d}"
            f"{r['embedding']:>18.2f}{r['stats']:>14.2f}{r['either']:>9.2f}{r['significant']:>9.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation, print the table and optionally save it."""
    parser = argparse.ArgumentParser(prog="eval_images_drift", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="photo folder [default: simulated photos]")
    parser.add_argument("--runs", type=int, default=20, help="windows per cell")
    parser.add_argument("--windows", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument(
        "--severities", type=int, nargs="+", default=[0, 1, 2], help="0 small, 1 medium, 2 large"
    )
    parser.add_argument("--max-train", type=int, default=4000, help="training photos of the quick CNN")
    parser.add_argument("--calib-runs", type=int, default=200, help="clean splits per size (calibration)")
    parser.add_argument(
        "--calib-windows", type=int, nargs="+", default=[50, 200], help="rows a side of the clean splits"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="5 runs, one window size, medium severity")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.windows, args.severities, args.calib_runs = 5, [200], [1], 20
    summary = evaluate(
        args.data,
        args.runs,
        args.windows,
        args.severities,
        args.max_train,
        args.calib_runs,
        tuple(args.calib_windows),
        seed=args.seed,
    )
    _print(summary)
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
