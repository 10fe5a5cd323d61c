"""Reference-vs-current shares on common bins, for plots (not for tests).

Numeric: up to 20 bins holding equal reference mass (cut on the sketch grid); categorical: the 20 most
frequent categories of both sides together, the rest summed as ``(other)``.
"""

from __future__ import annotations

import numpy as np

from shopml.monitor.drift.report import Histogram
from shopml.profile.sketch import CategoricalSketch, NumericSketch, bucket_upper

__all__ = ["histogram"]

BINS = 20


def histogram(
    ref: NumericSketch | CategoricalSketch, cur: NumericSketch | CategoricalSketch
) -> Histogram | None:
    """Shares of both sides on common bins, or None when either side is empty or kinds differ."""
    if ref.count == 0 or cur.count == 0:
        return None
    if isinstance(ref, CategoricalSketch) and isinstance(cur, CategoricalSketch):
        return _categorical(ref, cur)
    if isinstance(ref, NumericSketch) and isinstance(cur, NumericSketch):
        return _numeric(ref, cur)
    return None


def _numeric(ref: NumericSketch, cur: NumericSketch) -> Histogram:
    keys = np.union1d(ref.keys, cur.keys)
    ca, cb = ref.counts_on(keys), cur.counts_on(keys)
    before = np.concatenate([[0.0], np.cumsum(ca)[:-1]]) / ca.sum()
    bins = np.minimum((before * BINS + 1e-9).astype(int), BINS - 1)
    used = np.unique(bins)
    ra = np.bincount(bins, ca, BINS)[used] / ca.sum()
    rb = np.bincount(bins, cb, BINS)[used] / cb.sum()
    uppers = bucket_upper(keys)
    labels = [f"≤ {uppers[np.flatnonzero(bins == b).max()]:.4g}" for b in used]
    return Histogram(labels=labels, reference=ra.round(6).tolist(), current=rb.round(6).tolist())


def _categorical(ref: CategoricalSketch, cur: CategoricalSketch) -> Histogram:
    na, nb = ref.count, cur.count
    cats = sorted(
        set(ref.counts) | set(cur.counts),
        key=lambda c: -(ref.counts.get(c, 0) / na + cur.counts.get(c, 0) / nb),
    )
    top, rest = cats[:BINS], cats[BINS:]
    ra = [ref.counts.get(c, 0) / na for c in top]
    rb = [cur.counts.get(c, 0) / nb for c in top]
    if rest:
        top = [*top, "(other)"]
        ra.append(sum(ref.counts.get(c, 0) for c in rest) / na)
        rb.append(sum(cur.counts.get(c, 0) for c in rest) / nb)
    return Histogram(labels=top, reference=[round(v, 6) for v in ra], current=[round(v, 6) for v in rb])
