"""What the dashboard shows, as plain typed records assembled by :mod:`shopml.dashboard.collect`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DashboardData", "DaySeries", "PolicySeries", "TimelineItem", "VersionSpan"]


@dataclass(frozen=True)
class TimelineItem:
    """One event on the timeline."""

    ts: str
    kind: str
    severity: str
    summary: str
    link: str | None = None


@dataclass(frozen=True)
class VersionSpan:
    """A model version's time as champion (``end`` None: still champion)."""

    version: int
    start: str
    end: str | None


@dataclass
class DaySeries:
    """One window's monitored numbers (from the monitor's reports)."""

    start: str
    rows: int
    maturity: float
    realised: float | None = None
    realised_lo: float | None = None
    realised_hi: float | None = None
    estimated: float | None = None
    estimated_lo: float | None = None
    estimated_hi: float | None = None
    drifted_features: list[str] = field(default_factory=list)
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None


@dataclass
class PolicySeries:
    """A retraining policy's outcome per day (from the policy comparison)."""

    name: str
    days: list[str]
    pr_auc: list[float | None]
    cost: list[float]
    retrains: list[str] = field(default_factory=list)


@dataclass
class DashboardData:
    """Everything on the page."""

    model: str
    title: str = "shopml dashboard"
    metric: str = "pr_auc"  # the monitored metric (the model kind's primary, or the monitor's alert metric)
    scenario: str | None = None
    drift_onset: str | None = None
    timeline: list[TimelineItem] = field(default_factory=list)
    versions: list[VersionSpan] = field(default_factory=list)
    days: list[DaySeries] = field(default_factory=list)
    policies: list[PolicySeries] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)
    policy_table: list[dict[str, Any]] = field(default_factory=list)
