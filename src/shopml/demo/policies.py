"""Score what each retraining policy would have answered, per day and per period, on the ground truth.

Metrics come from :mod:`shopml.train.metrics` (the same definitions the training report uses); cost is
the :class:`shopml.stats.Costs` the models' thresholds were chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopml.errors import InsufficientDataError
from shopml.stats import Costs
from shopml.train.metrics import point_metrics

__all__ = ["PolicyOutcome", "daily_outcome", "period_metrics"]


@dataclass
class PolicyOutcome:
    """A policy's daily PR-AUC and expected cost (total per day), and when it changed model."""

    name: str
    days: list[str]
    pr_auc: list[float | None]
    cost: list[float]
    promotions: list[str] = field(default_factory=list)
    retrains: int = 0


def _metrics(y: np.ndarray, s: np.ndarray, thr: np.ndarray, amounts: np.ndarray, costs: Costs) -> tuple:
    """PR-AUC (None without both classes) and the total cost under ``costs`` (missed amounts + friction
    per false alarm for the fraud model)."""
    cost = costs.total(y, s >= thr, amounts=amounts if costs.amount_column else None)
    try:
        pr = point_metrics(y, s, 0.5)["pr_auc"]
    except InsufficientDataError:
        pr = None
    return pr, cost


def daily_outcome(
    name: str,
    day: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    amounts: np.ndarray,
    costs: Costs,
) -> PolicyOutcome:
    """Per-day PR-AUC and cost for rows keyed by ``day`` (ISO dates), each with its model's threshold."""
    days = sorted(set(day.tolist()))
    pr_aucs: list[float | None] = []
    daily: list[float] = []
    for d in days:
        m = day == d
        pr, cost = _metrics(y[m], scores[m], thresholds[m], amounts[m], costs)
        pr_aucs.append(pr)
        daily.append(cost)
    return PolicyOutcome(name=name, days=days, pr_auc=pr_aucs, cost=daily)


def period_metrics(
    mask: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    amounts: np.ndarray,
    costs: Costs,
    n_days: int,
) -> dict[str, float | None]:
    """Pooled PR-AUC and mean daily cost over the rows in ``mask`` (a period of ``n_days`` days)."""
    if not mask.any():
        return {"pr_auc": None, "cost_per_day": None}
    pr, cost = _metrics(y[mask], scores[mask], thresholds[mask], amounts[mask], costs)
    return {"pr_auc": pr, "cost_per_day": cost / max(n_days, 1)}
