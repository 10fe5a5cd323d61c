"""The fields a training run's report and its result share."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from shopml.stats import Interval
from shopml.train.diagnostics import Diagnosis

__all__ = ["RunSummary"]


@dataclass(kw_only=True)
class RunSummary:
    """Chosen strategy, calibration and threshold, test metrics with their baseline, and the tables
    behind the choice; the common part of :class:`ReportData` and :class:`TrainResult`."""

    name: str
    task: str
    strategy: str
    calibration: str
    threshold: float
    objective: str
    metrics: dict[str, Interval]
    baseline: dict[str, Interval]
    diagnosis: Diagnosis
    imbalance_table: list[dict[str, Any]]
    search_table: list[dict[str, Any]]
    split: dict[str, Any]
    cv: dict[str, Any] | None = None

    def summary_fields(self) -> dict[str, Any]:
        """The :class:`RunSummary` fields as keyword arguments (values not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(RunSummary)}
