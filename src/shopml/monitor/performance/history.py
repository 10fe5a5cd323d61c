"""The performance history of one model version: its windows' metrics, the labelled error stream the
streaming detectors watch, and the levels the version showed when fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from shopml.config.settings import PerformanceSettings
from shopml.errors import DataError
from shopml.logstore import LabelStore, PredictionLog
from shopml.monitor.cache import WINDOWS, bootstrap_weights, digest
from shopml.monitor.performance.baselines import estimated_baseline, realised_baseline
from shopml.monitor.performance.measure import Measure
from shopml.monitor.performance.timing import parse_window, window_rng
from shopml.monitor.performance.windows import (
    WindowData,
    WindowPerformance,
    assemble,
    estimated_part,
    estimated_pool,
    monitored_costs,
    realised_part,
    realised_pool,
)
from shopml.registry import ModelBundle

__all__ = ["History", "performance_history"]


@dataclass(frozen=True)
class History:
    """Per-window performance, the matured windows' error stream (one error in [0, 1] per labelled
    prediction, as the model's kind defines it, with its times) and the estimated and realised levels of
    the version's first windows (``None`` until known)."""

    windows: list[WindowPerformance]
    errors: np.ndarray
    times: np.ndarray
    estimated_baseline: dict[str, Any] | None
    realised_baseline: dict[str, Any] | None


def _evaluate(
    data: list[WindowData],
    cfg: PerformanceSettings,
    seed: int,
    weights: np.ndarray,
    cache: bool,
    measure: Measure,
) -> list[WindowPerformance]:
    """Each window's estimated and realised metrics on its pool span (it and its ``max_pool - 1``
    predecessors), each with a generator of its own. Cached by a digest of every input: the estimate's
    inputs (scores, decisions) never change, the realised metrics' change while labels trickle in."""
    setup = cfg.model_dump_json() + measure.costs.model_dump_json()
    out: list[WindowPerformance] = []
    for i, w in enumerate(data):
        span = data[max(0, i - cfg.max_pool + 1) : i + 1]
        last = len(span) - 1
        # keyed by the pool actually used: a window keeps its result when the history slides on
        pool = estimated_pool(span, last, cfg, measure) if cache else None
        key = pool and digest(
            "estimated",
            setup,
            seed,
            [(d.start, d.end) for d in pool],
            *[a for d in pool for a in (d.scores, d.decisions, d.miss_costs)],
        )
        est = WINDOWS.get(key) if key else None
        if est is None:
            est = estimated_part(span, last, cfg, window_rng(seed, w.start, 1), measure)
            if key:
                WINDOWS.put(key, est)
        pool = realised_pool(span, last, cfg, measure) if cache and span[-1].rows else None
        key = pool and digest(
            "realised",
            measure.kind.name,
            setup,
            seed,
            weights.shape,
            [(d.start, d.end, d.counts) for d in pool],
            *[a for d in pool for a in (d.scores, d.decisions, d.labels, d.blocks, d.miss_costs)],
        )
        real = WINDOWS.get(key) if key else None
        if real is None:
            real = realised_part(span, last, cfg, window_rng(seed, w.start, 3), weights, measure)
            if key:
                WINDOWS.put(key, real)
        out.append(assemble(w, cfg, est, real))
    return out


def _window_data(
    log: PredictionLog,
    labels: LabelStore,
    bundle: ModelBundle,
    bounds: list[tuple[datetime, datetime]],
    now: datetime,
    cfg: PerformanceSettings,
    seed: int,
    measure: Measure,
) -> tuple[list[WindowData], list[np.ndarray]]:
    """Each window's outputs, decisions and labels known at ``now`` (bounded by a seeded uniform sample of
    ``max_rows``, exact counts kept), with the sampled rows' times; each row's miss cost when the
    measure's costs price a miss by a column the log has (the amount), else ``None`` (a fixed cost)."""
    target = bundle.meta.target
    if not target:
        raise DataError(
            f"model '{bundle.name}' has no target column in its bundle: no performance to monitor"
        )
    data: list[WindowData] = []
    stamps: list[np.ndarray] = []
    costs = measure.costs
    amount = costs.amount_column if measure.kind.thresholded and costs.amount_column in log.columns else None
    cols = [*measure.logged_columns(log.columns), *([amount] if amount else [])]
    first, last = bounds[0][0], bounds[-1][1]
    table = labels.materialise(log, target, bundle.meta.id_column, first, last, now, cols)
    block_s = parse_window(cfg.block).total_seconds()
    for start, end in bounds:
        t = measure.labellable(labels.window(log, table, start, end))
        keep = np.arange(t.num_rows)
        if t.num_rows > cfg.max_rows:  # bounded: a uniform sample (exact counts kept)
            keep = np.sort(window_rng(seed, start, 0).choice(t.num_rows, cfg.max_rows, replace=False))
        score, decision, label = measure.outputs(t), measure.decisions(t), measure.labels(t)
        counts = (t.num_rows, int((~np.isnan(label)).sum()), measure.support(label))
        stamp = t.column("__time").to_numpy()[keep]
        blocks = measure.blocks(t, block_s)[keep]
        miss = None
        if amount:
            miss = costs.miss_costs(t.num_rows, t.column(amount).to_numpy(zero_copy_only=False))[keep]
        data.append(WindowData(start, end, score[keep], decision[keep], label[keep], counts, blocks, miss))
        stamps.append(stamp)
    return data, stamps


def performance_history(
    log: PredictionLog,
    labels: LabelStore,
    bundle: ModelBundle,
    bounds: list[tuple[datetime, datetime]],
    now: datetime,
    cfg: PerformanceSettings,
    seed: int,
    cache: bool = True,
) -> History:
    """Performance of the windows ``bounds`` (oldest first) as known at ``now``, the error stream of the
    matured ones (thinned uniformly to ``stream_rows`` per window, order kept) and the baselines."""
    costs = monitored_costs(bundle.meta.costs, bundle.meta.lineage.get("config"), cfg)
    measure = Measure.of(bundle, cfg.alert_metric, costs)
    data, stamps = _window_data(log, labels, bundle, bounds, now, cfg, seed, measure)
    weights = bootstrap_weights(seed, cfg.n_resamples, cfg.max_rows)  # shared draws, once per process
    out = _evaluate(data, cfg, seed, weights, cache, measure)
    errors: list[np.ndarray] = []
    times: list[np.ndarray] = []
    for w, d, ts in zip(out, data, stamps, strict=True):
        if w.matured:
            known = np.flatnonzero(~np.isnan(d.labels))
            if known.size > cfg.stream_rows:
                known = np.sort(window_rng(seed, d.start, 2).choice(known, cfg.stream_rows, replace=False))
            errors.append(measure.errors(d.labels[known], d.scores[known], d.decisions[known]))
            times.append(ts[known])
    span = bounds[-1][1] - bounds[-1][0]
    return History(
        windows=out,
        errors=np.concatenate(errors) if errors else np.empty(0),
        times=np.concatenate(times) if times else np.empty(0, "datetime64[us]"),
        estimated_baseline=estimated_baseline(log, out[-1], data, span, cfg, seed, measure),
        realised_baseline=realised_baseline(log, labels, bundle, span, now, cfg, seed, measure),
    )
