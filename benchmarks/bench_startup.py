"""Start-up benchmark: how long a command takes before it does anything, and ``shopml drift`` end to end.

Run: ``.venv/bin/python -m benchmarks.bench_startup [--quick]``

1. ``shopml --help``, ``shopml drift --help`` and ``python -c "import shopml.serve"`` against
   ``python -c pass`` in the same run: ``runs`` rounds, the commands interleaved within each round so
   that a busy machine slows them alike; medians of wall time and of CPU time (user + system of the
   child, the honest figure on a shared machine), and each command's ratio to ``python -c pass``.
2. ``shopml drift REFERENCE CURRENT`` on ``rows`` (1M; 100k with ``--quick``) × 25 column Parquet files
   (20 numeric, 5 categorical, a 0.05σ shift on three), start-up included, against a per-column scipy
   loop in its own interpreter (read with pyarrow, ``ks_2samp`` / ``chi2_contingency`` per column, as
   :func:`benchmarks.bench_drift.scipy_loop`): medians of ``repeats`` interleaved rounds and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.bench_drift import make_table

SCIPY_LOOP = """
import sys
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import stats

ref, cur = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
flagged = 0
for name in ref.column_names:
    if name.startswith("num_"):
        p = stats.ks_2samp(ref.column(name).to_numpy(), cur.column(name).to_numpy()).pvalue
    else:
        a = {d["values"]: d["counts"] for d in pc.value_counts(ref.column(name)).to_pylist()}
        b = {d["values"]: d["counts"] for d in pc.value_counts(cur.column(name)).to_pylist()}
        cats = sorted(set(a) | set(b))
        p = stats.chi2_contingency([[a.get(c, 0) for c in cats], [b.get(c, 0) for c in cats]]).pvalue
    flagged += bool(p < 0.05)
print(flagged, "of", len(ref.column_names), "columns flagged")
"""


def shopml_cmd() -> list[str]:
    """The installed ``shopml`` script beside this interpreter, else ``python -m shopml``."""
    script = Path(sys.executable).parent / "shopml"
    return [str(script)] if script.exists() else [sys.executable, "-m", "shopml"]


def run_once(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``cmd``; a failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # `shopml drift` exits 1 only with --fail-on-drift
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def rounds(commands: dict[str, list[str]], n: int, cwd: Path | None = None) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds per command over ``n`` rounds (commands interleaved per round)."""
    walls: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(n):
        for name, cmd in commands.items():
            wall, cpu = run_once(cmd, cwd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {k: (statistics.median(walls[k]), statistics.median(cpus[k])) for k in commands}


def part_startup(runs: int) -> None:
    """Part 1: start-up of the CLI and of the serving import against a bare interpreter."""
    shopml = shopml_cmd()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "shopml --help": [*shopml, "--help"],
        "shopml drift --help": [*shopml, "drift", "--help"],
        "import shopml.serve": [sys.executable, "-c", "import shopml.serve"],
    }
    res = rounds(commands, runs)
    base_wall, base_cpu = res["python -c pass"]
    print(f"[1] start-up, medians of {runs} interleaved rounds (load average {os.getloadavg()[0]:.1f})")
    for name, (wall, cpu) in res.items():
        ratio = f"{wall / base_wall:5.1f}x wall {cpu / base_cpu:5.1f}x CPU of python -c pass"
        print(f"    {name:22s}: {wall:6.3f} s wall {cpu:6.3f} s CPU  {ratio}")
    print("    target: shopml --help <= 0.3 s (median of 5)")


def part_drift(rows: int, repeats: int) -> None:
    """Part 2: ``shopml drift`` on two Parquet files, end to end, against the scipy loop."""
    with tempfile.TemporaryDirectory(prefix="shopml-bench-startup-") as tmp:
        folder = Path(tmp)
        pq.write_table(make_table(rows, 1), folder / "reference.parquet")
        pq.write_table(make_table(rows, 2, shift=0.05), folder / "current.parquet")
        files = [str(folder / "reference.parquet"), str(folder / "current.parquet")]
        commands = {
            "shopml drift": [*shopml_cmd(), "drift", *files, "--workspace", str(folder / "ws")],
            "scipy loop": [sys.executable, "-c", SCIPY_LOOP, *files],
        }
        res = rounds(commands, repeats, cwd=folder)
    (t_shop, c_shop), (t_scipy, c_scipy) = res["shopml drift"], res["scipy loop"]
    print(
        f"[2] shopml drift end to end, {rows:,} rows x 25 columns per file, medians of {repeats} rounds"
        f" (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"    shopml drift   : {t_shop:6.2f} s wall {c_shop:6.2f} s CPU")
    print(f"    scipy loop     : {t_scipy:6.2f} s wall {c_scipy:6.2f} s CPU")
    speed = f"{t_scipy / t_shop:5.1f}x wall {c_scipy / c_shop:5.1f}x CPU"
    print(f"    speed-up       : {speed}  (target: >= 5x, start-up included)")


def main() -> None:
    """Parse flags and run both parts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--part", choices=("startup", "drift"), help="run one part only")
    args = parser.parse_args()
    runs, rows, repeats = (5, 100_000, 2) if args.quick else (9, 1_000_000, 3)
    if args.part in (None, "startup"):
        part_startup(runs)
    if args.part in (None, "drift"):
        part_drift(rows, repeats)


if __name__ == "__main__":
    main()
