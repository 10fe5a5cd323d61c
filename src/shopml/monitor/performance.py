"""Performance per time window with delayed labels: maturity, realised metrics, estimated metrics.

* **Maturity** of a window = share of its predictions whose label is in (``label_available_at <= now``).
* **Realised** metrics (PR-AUC, precision/recall/F1 at the threshold, expected cost per prediction) are
  computed only for *matured* windows (maturity ≥ ``min_maturity``, default 0.95, and at least
  ``min_labelled`` labelled rows), over the labelled rows, with Poisson-bootstrap percentile intervals.
  Below that threshold the labelled rows are a biased sample (fraud labels arrive with chargebacks, legit
  ones when the dispute period ends), so no realised figure is shown.
* **Estimated** metrics (CBPE, :mod:`shopml.monitor.estimate`) for every window with enough rows.

Windows larger than ``max_rows`` are subsampled uniformly (seeded) for the intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from shopml.config.settings import PerformanceSettings
from shopml.monitor.estimate import estimate_performance
from shopml.monitor.metrics import METRICS, Costs, Interval, SortedScores

__all__ = ["WindowPerformance", "evaluate_window", "realised_performance"]


@dataclass(frozen=True)
class WindowPerformance:
    """One window's performance: counts, label maturity, realised and estimated metrics."""

    start: datetime
    end: datetime
    rows: int
    labelled: int
    positives: int
    maturity: float
    matured: bool
    realised: dict[str, Interval] | None
    estimated: dict[str, Interval] | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": self.rows,
            "labelled": self.labelled,
            "positives": self.positives,
            "maturity": self.maturity,
            "matured": self.matured,
            "realised": None if self.realised is None else {k: v.to_dict() for k, v in self.realised.items()},
            "estimated": None
            if self.estimated is None
            else {k: v.to_dict() for k, v in self.estimated.items()},
            "notes": list(self.notes),
        }


def realised_performance(
    scores: np.ndarray,
    decisions: np.ndarray,
    labels: np.ndarray,
    *,
    costs: Costs = Costs(),
    n_bootstrap: int = 200,
    level: float = 0.9,
    rng: np.random.Generator | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Metrics on labelled rows with Poisson-bootstrap percentile intervals.

    ``weights``: pre-drawn Poisson(1) weights of shape ``(n_bootstrap, >= n)`` to reuse across windows
    (each window's interval stays valid; only windows' draws are no longer independent).
    """
    gen = rng if rng is not None else np.random.default_rng(0)
    sorted_ = SortedScores(scores, decisions)
    y = np.asarray(labels, dtype=np.float32)[sorted_.order][None, :]
    point = sorted_.metrics(y, None, costs)
    if weights is not None and weights.shape[1] >= sorted_.n:
        weights = weights[:, : sorted_.n]
    else:
        weights = gen.poisson(1.0, size=(n_bootstrap, sorted_.n)).astype(np.float32)
    draws = sorted_.metrics(np.broadcast_to(y, weights.shape), weights, costs)
    return {m: Interval.from_draws(float(point[m][0]), draws[m], level) for m in METRICS}


def _subsample(n: int, max_rows: int, rng: np.random.Generator) -> np.ndarray | None:
    return None if n <= max_rows else np.sort(rng.choice(n, size=max_rows, replace=False))


def evaluate_window(
    start: datetime,
    end: datetime,
    scores: np.ndarray,
    decisions: np.ndarray,
    labels: np.ndarray,
    settings: PerformanceSettings,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
) -> WindowPerformance:
    """Maturity, realised (if matured) and estimated metrics for one window.

    ``labels`` holds 0/1 for labelled rows and NaN where the label is not in yet; ``weights`` are
    optional shared bootstrap draws (see :func:`realised_performance`).
    """
    n = int(scores.size)
    known = ~np.isnan(labels)
    labelled = int(known.sum())
    positives = int(np.nansum(labels))
    maturity = labelled / n if n else 0.0
    matured = n > 0 and maturity >= settings.min_maturity and labelled >= settings.min_labelled
    costs = Costs(settings.cost_false_positive, settings.cost_false_negative)
    notes: list[str] = []
    realised = estimated = None
    if n < settings.min_rows:
        notes.append(f"insufficient data: {n} prediction(s), need {settings.min_rows} to estimate")
    else:
        idx = _subsample(n, settings.max_rows, rng)
        s, d = (scores, decisions) if idx is None else (scores[idx], decisions[idx])
        estimated = estimate_performance(
            s, d, costs=costs, n_samples=settings.n_bootstrap, level=settings.confidence, rng=rng
        )
    if matured and 0 < positives < labelled:
        ks, kd, ky = scores[known], decisions[known], labels[known]
        idx = _subsample(labelled, settings.max_rows, rng)
        if idx is not None:
            ks, kd, ky = ks[idx], kd[idx], ky[idx]
        realised = realised_performance(
            ks,
            kd,
            ky,
            costs=costs,
            n_bootstrap=settings.n_bootstrap,
            level=settings.confidence,
            rng=rng,
            weights=weights,
        )
    elif matured:
        notes.append(f"insufficient data: labels hold a single class ({positives} positive of {labelled})")
    elif n:
        notes.append(
            f"labels not matured: {maturity:.1%} in (need {settings.min_maturity:.0%} and "
            f"{settings.min_labelled} rows); realised metrics withheld"
        )
    return WindowPerformance(
        start, end, n, labelled, positives, maturity, matured, realised, estimated, notes
    )
