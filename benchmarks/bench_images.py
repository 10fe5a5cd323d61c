"""Product-photo CNN on Fashion-MNIST (or simulated photos with --quick): test accuracy and macro-F1 with
intervals, baselines in the same run, training time, peak memory, ONNX parity, review threshold.

    nice -n 10 .venv/bin/python -m benchmarks.bench_images [--epochs 6] [--width 32] [--json out.json]
    .venv/bin/python -m benchmarks.bench_images --quick      # simulated photos, seconds

Run one long training at a time on a shared machine: the figure is the time measured here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Train once, print and optionally save the headline figures."""
    parser = argparse.ArgumentParser(prog="bench_images", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="simulated photos, a tiny net (smoke run)")
    parser.add_argument("--data", type=Path, default=None, help="photo folder [default: Fashion-MNIST]")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=None, help="final average-pooling grid (1: global)")
    parser.add_argument("--extra-block", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--mirror", action=argparse.BooleanOptionalAction, default=None, help="mirror-image averaging"
    )
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args(argv)

    from shopml.config import Workspace
    from shopml.images import ImagesConfig, train_images

    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        data = args.data
        if args.quick and data is None:
            from shopml.simulate.images import write_images

            write_images(Path(tmp) / "photos", per_class=300, seed=0)
            data = Path(tmp) / "photos"
        cfg = ImagesConfig.make(
            quick=args.quick,
            data=data,
            epochs=args.epochs,
            width=args.width,
            batch=args.batch,
            lr=args.lr,
            threads=args.threads,
            extra_block=args.extra_block,
            pool=args.pool,
            mirror=args.mirror,
            baselines=False if args.no_baselines else None,
        )
        start = time.perf_counter()
        res = train_images(
            cfg,
            ws=Workspace(Path(tmp) / "ws").ensure(),
            register=True,
            say=lambda m: print(f"  {m}", flush=True),
        )
        out = {"config": cfg.to_dict(), "wall_seconds": time.perf_counter() - start, **res.summary()}
        out["accuracy_vs_time"] = [
            {"epoch": h["epoch"], "seconds": h["seconds"], "valid_accuracy": h.get("valid_metric")}
            for h in res.run.fit.history
        ]
        out["per_class"] = res.run.per_class
        if args.json:
            args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
            report = args.json.with_suffix(".html")
            report.write_text(res.report_path.read_text(encoding="utf-8"), encoding="utf-8")
    m, acc = out["metrics"], out["metrics"]["accuracy"]
    print(
        f"CNN test accuracy {acc['value']:.4f} [{acc['low']:.4f}, {acc['high']:.4f}], macro-F1 "
        f"{m['macro_f1']['value']:.4f}; training {out['train_seconds']:.0f} s over {out['epochs']} epochs; "
        f"peak memory {out['peak_memory_mb']:.0f} MB; ONNX parity {out['parity_max_abs_diff']:.2e}"
    )
    for name, b in out["baselines"].items():
        print(f"{name}: accuracy {b['accuracy']['value']:.4f}, macro-F1 {b['macro_f1']['value']:.4f}")
    r = out["review"]
    print(
        f"review threshold (validation, {r['target']:.0%} precision): {r['validation']} -> test {r['test']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
