"""Text classifier (``shopml train --task text``) at full size: accuracy and macro-F1 with intervals on
held-out templates for the fine-tuned teacher, the distilled student, the INT8 student, TF-IDF and the
frozen encoder; training times; the speed/accuracy table; INT8 parity.

    nice -n 10 .venv/bin/python -m benchmarks.bench_text_train [--texts 300] [--days 30] [--json out.json]
    .venv/bin/python -m benchmarks.bench_text_train --quick     # --quick's settings (about two minutes)

Run one long training at a time on a shared machine: the figures are the times measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Simulate texts, train once, print and optionally save the headline figures."""
    parser = argparse.ArgumentParser(prog="bench_text_train", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="--quick's settings (small data, 1 epoch)")
    parser.add_argument("--data", type=Path, default=None, help="a world with texts/ [default: simulate]")
    parser.add_argument("--texts", type=int, default=300, help="texts of each kind per simulated day")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--target", default="category", help="category | return_reason | intent")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--student-epochs", type=int, default=None)
    parser.add_argument("--student-init", default=None, help="teacher | fresh")
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--json", type=Path, default=None, help="write the summary here (and the report beside)"
    )
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"

    from shopml.config import Workspace
    from shopml.text import TextConfig, train_text

    with tempfile.TemporaryDirectory(prefix="bench-text-") as tmp:
        data = args.data
        if data is None:
            from shopml.simulate import simulate

            data = Path(tmp) / "world"
            simulate(data, days=args.days, customers=500, session_rate=0.0, seed=0, texts=args.texts)
        cfg = TextConfig.make(
            quick=args.quick,
            data=data,
            target=args.target,
            epochs=args.epochs,
            student_epochs=args.student_epochs,
            student_init=args.student_init,
            max_train=args.max_train,
            max_length=args.max_length,
            threads=args.threads,
        )
        start = time.perf_counter()
        res = train_text(
            cfg,
            ws=Workspace(Path(tmp) / "ws").ensure(),
            register=True,
            say=lambda m: print(f"  {m}", flush=True),
        )
        out = {"config": cfg.to_dict(), "wall_seconds": time.perf_counter() - start, **res.summary()}
        out["per_class"] = res.run.per_class
        out["teacher_history"] = res.run.teacher_fit.history
        out["student_history"] = res.run.student_fit.history
        if args.json:
            args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
            report = args.json.with_suffix(".html")
            report.write_text(res.report_path.read_text(encoding="utf-8"), encoding="utf-8")
    print(
        f"{len(res.run.data.test_y)} held-out test texts; served: {out['served']}; "
        f"wall {out['wall_seconds']:.0f} s"
    )
    for name, m in out["models"].items():
        acc, f1 = m["metrics"]["accuracy"], m["metrics"]["macro_f1"]
        speed = m["speed"] or {}
        print(
            f"{name:>14}: accuracy {acc['value']:.4f} [{acc['low']:.4f}, {acc['high']:.4f}], macro-F1 "
            f"{f1['value']:.4f} [{f1['low']:.4f}, {f1['high']:.4f}]; fit {m['fit_seconds']:.0f} s"
            + (f"; p50 {speed['p50_ms']:.2f} ms, {speed['texts_per_s']:.0f} texts/s" if speed else "")
        )
    q = out["quantisation_parity"]
    print(
        f"INT8 parity: drop {q['accuracy_drop_points']:.2f} points, cosine {q['cosine_mean']:.4f}, "
        f"passed {q['passed']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
