"""What a model version showed when fresh: the estimated and the realised level of its first windows in
production, the references the performance alerts compare the latest window with."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from shopml.config.settings import PerformanceSettings
from shopml.logstore import LabelStore, PredictionLog
from shopml.monitor.performance.estimate import estimate_performance
from shopml.monitor.performance.measure import BINARY, Measure
from shopml.monitor.performance.timing import parse_window
from shopml.monitor.performance.windows import WindowData, WindowPerformance
from shopml.registry import ModelBundle
from shopml.stats import time_blocks

__all__ = ["estimated_baseline", "realised_baseline"]


def realised_baseline(
    log: PredictionLog,
    labels: LabelStore,
    bundle: ModelBundle,
    span: timedelta,
    now: datetime,
    cfg: PerformanceSettings,
    seed: int,
    measure: Measure = BINARY,
) -> dict[str, Any] | None:
    """Realised alert metric over this version's first ``max_pool`` windows in production, once they
    have matured, with its hour-block interval: what the model showed when fresh, measured the way later
    windows are. ``None`` until then (or without ``min_positives`` labelled positives, or labelled rows
    for a kind without a rare class)."""
    first = log.span().start
    if first is None or bundle.meta.target is None:
        return None
    end = first + cfg.max_pool * span
    if end > now:
        return None
    table = labels.materialise(
        log, bundle.meta.target, bundle.meta.id_column, first, end, now, measure.logged_columns(log.columns)
    )
    t = measure.labellable(labels.window(log, table, first, end))
    label = measure.labels(t)
    known = ~np.isnan(label)
    if not t.num_rows or known.mean() < cfg.min_maturity or measure.support(label) < cfg.min_positives:
        return None
    keep = np.flatnonzero(known)
    if keep.size > cfg.max_rows:  # bounded like every window: a uniform, seeded sample
        keep = np.sort(np.random.default_rng([seed, 4]).choice(keep, cfg.max_rows, replace=False))
    score, decision = measure.outputs(t)[keep], measure.decisions(t)[keep]
    blocks = measure.blocks(t, parse_window(cfg.block).total_seconds())[keep]
    rng = np.random.default_rng(seed)
    m = measure.realised(score, decision, label[keep], cfg, rng, blocks=blocks)[measure.metric]
    return {
        "value": m.value,
        "low": m.low,
        **({"high": m.high} if measure.lower_is_better else {}),
        "start": first.isoformat(),
        "end": end.isoformat(),
        "positives": measure.support(label),
    }


def estimated_baseline(
    log: PredictionLog,
    latest: WindowPerformance,
    data: list[WindowData],
    span: timedelta,
    cfg: PerformanceSettings,
    seed: int,
    measure: Measure = BINARY,
) -> dict[str, Any] | None:
    """CBPE on the first ``max_pool`` windows after this version's first prediction, on as many rows as
    the latest estimate used: the level the estimate had when the model was fresh (same size, same bias),
    with its hour-block interval (``low``): a week of bursty fraud is one noisy sample too."""
    first = log.span().start
    if first is None or latest.estimated_from is None or not measure.kind.estimates_performance:
        return None
    end = first + cfg.max_pool * span
    if latest.estimated_from < end:
        return None  # the latest estimate still overlaps the baseline period
    rows = min(cfg.max_rows, sum(int(d.scores.size) for d in data if d.start >= latest.estimated_from))
    t = log.read(first, end, ["score", "decision", "__time"])
    if t.num_rows < max(rows, cfg.min_rows):
        return None
    rng = np.random.default_rng(seed)
    s = t.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
    d = t.column("decision").to_numpy(zero_copy_only=False).astype(np.float64)
    b = time_blocks(t.column("__time").to_numpy(), parse_window(cfg.block).total_seconds())
    order = np.lexsort((b, d, s))  # DuckDB's row order may vary between runs; the sample must not
    idx = order[rng.choice(t.num_rows, rows, replace=False)]
    s, d, b = s[idx], d[idx], b[idx]
    est = estimate_performance(s, d, n_resamples=cfg.n_resamples, level=cfg.level, rng=rng, blocks=b)
    return {
        "value": est[cfg.alert_metric].value,
        "low": est[cfg.alert_metric].low,
        "start": first.isoformat(),
        "end": end.isoformat(),
        "rows": rows,
    }
