"""Run every benchmark module (``benchmarks/bench_*.py``) one after the other, or list them.

.venv/bin/python -m benchmarks            # all, full size
.venv/bin/python -m benchmarks --quick    # all, smoke sizes
.venv/bin/python -m benchmarks --list     # names only
.venv/bin/python -m benchmarks simulate   # only bench_simulate
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def modules() -> list[str]:
    """Names of the benchmark modules, sorted."""
    return sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks, each in its own process; returns the number that failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (e.g. simulate), default all")
    parser.add_argument("--quick", action="store_true", help="pass --quick (small smoke runs)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    found = modules()
    if args.list:
        print("\n".join(found))
        return 0
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or found
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {', '.join(found)}")
    failed = 0
    for name in wanted:
        print(f"== {name}", flush=True)
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if args.quick else [])]
        failed += subprocess.run(cmd, check=False).returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
