"""Promotion-gate benchmark: speed of the paired bootstrap and error rates of the gate vs a naive rule.

Run: ``.venv/bin/python -m benchmarks.bench_gate [--quick]``

1. Speed: the paired, stratified bootstrap of the PR-AUC difference (``shopml.loop.paired_bootstrap``,
   vectorised over draws) against the obvious loop calling ``sklearn.metrics.average_precision_score``
   twice per draw, on the same rows and draw count; medians of ``repeats`` runs.
2. Error rates over many seeded worlds: how often each rule promotes a challenger that is *equally good*
   (a false promotion), *worse by the margin*, or *clearly better* — shopml's gate (superiority and
   non-inferiority at 95%) against the naive point-estimate rule "promote if the challenger's PR-AUC is
   higher" (what threshold-based gates do).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from rich.console import Console
from rich.progress import track
from sklearn.metrics import average_precision_score

from shopml.loop.bootstrap import paired_bootstrap
from shopml.loop.gate import decide
from shopml.loop.policy import GatePolicy
from shopml.stats import resample_weights


def world(seed: int, n: int, rate: float = 0.06, signal_a: float = 1.2, signal_b: float = 1.2):  # type: ignore[no-untyped-def]
    """Labels and two correlated model scores; ``signal_*`` sets each model's separation."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(np.int8)
    shared = rng.normal(size=n)
    a = signal_a * y + 0.7 * shared + 0.7 * rng.normal(size=n)
    b = signal_b * y + 0.7 * shared + 0.7 * rng.normal(size=n)
    return y, a, b


def naive_loop(y: np.ndarray, a: np.ndarray, b: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """The per-draw scikit-learn loop (same stratified draws)."""
    (w,) = resample_weights(draws, y.size, np.random.default_rng(seed), strata=y, chunk=draws)
    counts = w.astype(np.int64)
    out = np.empty(draws)
    for i in range(draws):
        idx = np.repeat(np.arange(y.size), counts[i])
        out[i] = average_precision_score(y[idx], b[idx]) - average_precision_score(y[idx], a[idx])
    return out


def bench_speed(n: int, draws: int, repeats: int) -> None:
    y, a, b = world(0, n)
    ours, base = [], []
    for r in range(repeats):
        t = time.perf_counter()
        paired_bootstrap(y, a, b, n_resamples=draws, seed=r)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        naive_loop(y, a, b, draws, r)
        base.append(time.perf_counter() - t)
    mo, mb = statistics.median(ours), statistics.median(base)
    print(f"\n1. paired bootstrap, {n:,} rows, {int(y.sum())} positives, {draws} draws (median of {repeats})")
    print(f"   shopml vectorised   {mo:8.3f} s")
    print(f"   sklearn per draw    {mb:8.3f} s   ({mb / mo:.0f}x slower)")


def bench_rates(seeds: int, n: int, draws: int) -> None:
    sup = GatePolicy(mode="superior", n_resamples=draws, min_positives=5)
    ni = GatePolicy(mode="non_inferior", margin=0.05, n_resamples=draws, min_positives=5)
    # signal_b vs the champion's 1.2 (1.034: PR-AUC -0.05 in the population, measured on 400k rows)
    cases = {
        "equal quality": 1.2,
        "worse by the margin": 1.034,
        "clearly better": 2.0,
    }
    print(
        f"\n2. promotion rate over {seeds} seeded worlds"
        f" ({n} rows, ~{int(n * 0.06)} positives, {draws} draws)"
    )
    print(
        f"   {'challenger':<22}{'naive: higher point':>20}{'gate superior 95%':>20}{'gate non-inf. 0.05':>20}"
    )
    for name, sb in cases.items():
        naive, s_ok, n_ok = [], [], []
        for seed in track(range(seeds), description=name, transient=True, console=Console(stderr=True)):
            y, champ, chal = world(10_000 + seed, n, signal_b=sb)
            naive.append(average_precision_score(y, chal) > average_precision_score(y, champ))
            s_ok.append(decide(y, chal, champ, sup.model_copy(update={"seed": seed})).promote)
            n_ok.append(decide(y, chal, champ, ni.model_copy(update={"seed": seed})).promote)
        print(f"   {name:<22}{np.mean(naive):>20.1%}{np.mean(s_ok):>20.1%}{np.mean(n_ok):>20.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    if args.quick:
        bench_speed(n=2_000, draws=100, repeats=1)
        bench_rates(seeds=20, n=800, draws=100)
    else:
        bench_speed(n=20_000, draws=1_000, repeats=3)
        bench_rates(seeds=400, n=800, draws=500)


if __name__ == "__main__":
    main()
