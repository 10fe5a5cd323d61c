"""Evaluation: how much of a concept drift can *any* retrain recover, and what does the label delay cost?

On ``gradual_concept`` (onset day 60, 21-day ramp, 90 days) the first champion is trained on days 0-41
with every label it will ever get; then, scored on the last week (days 83-89):

* ``first model``: that champion, never retrained;
* ``oracle``: retrained on days 48-82 with every label, even those that arrive after day 83 (no real
  retrain can do better with this data: an upper bound);
* ``point-in-time``: retrained at day 83 the loop's way (labels known at day 83, pending ones as
  negative), with rows at least 7 days old, at least 2 days old, and 2 days plus arrival-curve weights;
* ``ceiling``: a world where the new tactic is at full strength from day 0, trained on days 0-59 with
  every label, scored on days 60-89 (the best PR-AUC under the new concept at all); and the same for
  ``none`` (the old concept's level).

Paired differences against the first model come with hour-block 95% intervals.

    .venv/bin/python -m benchmarks.eval_concept [--customers 24000] [--seed 7]
    .venv/bin/python -m benchmarks.eval_concept --quick     # 8,000 customers: a smoke run (~1 min)
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shopml import train as train_api
from shopml.demo.run import FAST_TRAIN
from shopml.errors import InsufficientDataError
from shopml.loop import LoopPolicy, paired_bootstrap, train_challenger
from shopml.loop.scoring import score_table
from shopml.loop.window import load_known, split_at
from shopml.registry import ModelBundle
from shopml.simulate import simulate

TS = pa.timestamp("us", "UTC")


def _rows(table: pa.Table, start: datetime, d0: int, d1: int) -> pa.Table:
    t = table.column("event_time")
    lo, hi = pa.scalar(start + timedelta(days=d0), TS), pa.scalar(start + timedelta(days=d1), TS)
    return table.filter(pc.and_(pc.greater_equal(t, lo), pc.less(t, hi)))


def _fit(table: pa.Table, out: Path) -> ModelBundle:
    """Train with every label (ground truth), the demo's training settings."""
    cfg = train_api.preset(
        "fraud", out.parent, **FAST_TRAIN, split={"test_gap_days": 1.0}, label_available_column=None
    )
    res = train_api.train(cfg, table=table.drop_columns(["label_available_at"]), out_dir=out, register=False)
    return ModelBundle.load(str(res.bundle_dir))


def _world(root: Path, name: str, **params: Any) -> tuple[Path, pa.Table, datetime]:
    sim = simulate(root / name, days=90, **params)
    path = root / name / "transactions"
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table().drop_columns(["date"])
    return path, table, datetime.combine(sim.params.start, datetime.min.time(), tzinfo=UTC)


def _line(name: str, y: np.ndarray, base: np.ndarray, s: np.ndarray, hours: np.ndarray) -> None:
    pb = paired_bootstrap(y, base, s, n_resamples=1000, groups=hours)
    lo, hi = pb.diff_ci
    print(f"{name:<34} {pb.challenger:6.3f}   {pb.diff:+.3f} [{lo:+.3f}, {hi:+.3f}]", flush=True)


def main() -> None:
    """Run the evaluation and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=24_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="8,000 customers (a smoke run; smaller worlds leave the youngest test periods without frauds)",
    )
    args = ap.parse_args()
    if args.quick:
        args.customers = 8_000
    common = {"customers": args.customers, "seed": args.seed}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path, table, start = _world(root, "drift", scenario="gradual_concept", onset=60, **common)
        late = _rows(table, start, 83, 90)
        y = late.column("is_fraud").to_numpy()
        hours = late.column("event_time").to_numpy().astype("datetime64[h]")
        first = score_table(_fit(_rows(table, start, 0, 42), root / "m" / "first"), late)
        print(
            f"gradual_concept, {args.customers} customers, seed {args.seed};"
            f" days 83-89: {int(y.sum())} frauds"
        )
        print(f"{'model':<34} PR-AUC   vs first model [95% CI]")
        print(f"{'first model (days 0-41)':<34} {score_table_pr(y, first):6.3f}")
        oracle = _fit(_rows(table, start, 48, 83), root / "m" / "oracle")
        _line("oracle (48-82, every label)", y, first, score_table(oracle, late), hours)
        now = start + timedelta(days=83)
        known = load_known(LoopPolicy(data={"path": str(path)}).data, now)
        for name, age, delay in (
            ("point-in-time, rows >= 7 d old", 7, "none"),
            ("point-in-time, rows >= 2 d old", 2, "none"),
            ("point-in-time, >= 2 d, arrival wts", 2, "arrival_weights"),
        ):
            policy = LoopPolicy.model_validate(
                {
                    "train_config": FAST_TRAIN,
                    "data": {"path": str(path)},
                    "window": {"days": 35, "pending_labels": "negative", "min_label_age_days": age},
                    "gate": {"label_maturity_days": 7, "holdout_days": 5, "max_holdout_days": 21},
                    "label_delay": {"correction": delay},
                }
            )
            sp = split_at(known, policy.data, policy.window, policy.gate, now, policy.label_delay)
            out = root / "pit" / f"{age}-{delay}"
            try:
                bundle = ModelBundle.load(
                    str(train_challenger(sp.train, sp.weights, policy, out / "bundle", now))
                )
            except InsufficientDataError as exc:  # e.g. no chargeback yet in the window's test period
                print(f"{name:<34} no model: {exc}")
                continue
            _line(name, y, first, score_table(bundle, late), hours)
        for scenario, extra in (("gradual_concept", {"onset": 0, "length": 1}), ("none", {})):
            _, t, st = _world(root, f"ceiling-{scenario}", scenario=scenario, **extra, **common)
            test = _rows(t, st, 60, 90)
            s = score_table(_fit(_rows(t, st, 0, 60), root / "m" / f"ceiling-{scenario}"), test)
            label = "new tactic from day 0" if scenario != "none" else "no new tactic (none)"
            print(f"{'ceiling: ' + label:<34} {score_table_pr(test.column('is_fraud').to_numpy(), s):6.3f}")


def score_table_pr(y: np.ndarray, s: np.ndarray) -> float:
    """PR-AUC (average precision) of scores ``s``."""
    from shopml.train.metrics import point_metrics

    return float(point_metrics(y, s, 0.5)["pr_auc"])


if __name__ == "__main__":
    main()
