"""The session recommender against its baselines and the oracle bound, on the default simulated world.

Run: ``.venv/bin/python -m benchmarks.bench_recs [--quick] [--json FILE]``

Simulates the default world (``shopml simulate`` defaults: 90 days, 20,000 customers, seed 42) into a
temporary folder, then runs the full ``shopml train --task recs`` protocol without publishing: the GRU
(trained through the guarded loop, refitted on all training sessions) and every baseline on one time
split, ranked among all items, with 95% session-bootstrap intervals. The target: the GRU beats
popularity and item-kNN on Recall@20 and MRR@20 with non-overlapping intervals; its gap to the oracle
bound is reported. ``--quick`` uses the ``--quick`` training settings on a 30-day world.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shopml.recs.evaluate import metric_names
from shopml.recs.train import RecsConfig, fit_and_evaluate, quick_config
from shopml.simulate import simulate

TARGETS = ("popularity", "item_knn")


def run(quick: bool) -> dict[str, Any]:
    """Simulate, train and evaluate; the table, the verdict and whether the target holds."""
    with tempfile.TemporaryDirectory(prefix="shopml-bench-recs-") as tmp:
        t0 = time.perf_counter()
        world = simulate(Path(tmp), **({"days": 30} if quick else {}))
        sim_s = time.perf_counter() - t0
        cfg = quick_config(Path(tmp)) if quick else RecsConfig(Path(tmp))
        result = fit_and_evaluate(cfg, lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    ev = result.evaluations
    checks = {
        f"gru > {b} on {m}": ev["gru"].metrics[m].low > ev[b].metrics[m].high
        for b in TARGETS
        for m in metric_names(cfg.k)
    }
    gap = {m: ev["oracle"].metrics[m].value - ev["gru"].metrics[m].value for m in metric_names(cfg.k)}
    return {
        "world": {"sessions_rows": world.rows.get("sessions"), "simulate_seconds": round(sim_s, 2)},
        "items": len(result.split.items),
        "test_predictions": int(ev["gru"].ranks.size),
        "models": result.table(),
        "verdict": result.verdict,
        "target": checks,
        "target_met": all(checks.values()),
        "gap_to_oracle": gap,
        "gru_epochs": result.gru.selection_.best_epoch,
        "seconds": round(result.seconds, 1),
    }


def main() -> None:
    """Print the figures (and write them as JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 30-day world and the --quick settings")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    out = run(args.quick)
    for name, m in out["models"].items():
        cells = [
            f"{k} {v['value']:.4f} [{v['low']:.4f}, {v['high']:.4f}]"
            for k, v in m.items()
            if isinstance(v, dict)
        ]
        print(f"{name:20s} " + "  ".join(cells))
    print(out["verdict"])
    print("target:", "met" if out["target_met"] else "NOT met", out["target"])
    print(
        "gap to oracle:", {k: round(v, 4) for k, v in out["gap_to_oracle"].items()}, f"({out['seconds']} s)"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
