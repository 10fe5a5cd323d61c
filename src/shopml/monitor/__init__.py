"""Monitoring: drift (:mod:`shopml.monitor.drift`), performance over time (:mod:`shopml.monitor.performance`),
and the job that runs them. Profiles and sketches live in :mod:`shopml.profile`, the prediction log
and the labels in :mod:`shopml.logstore` (their names stay importable from here).

Names are imported lazily (PEP 562): ``import shopml.monitor.drift.report`` does not pull in River, XGBoost,
Plotly or MLflow; ``from shopml.monitor import run_monitor`` imports what that needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopml.journal.events import EVENT_KINDS, SEVERITIES, Event, EventStore
    from shopml.logstore.labels import LabelIngestResult, LabelStore, ingest_labels
    from shopml.logstore.reader import PredictionLog
    from shopml.logstore.writer import write_predictions
    from shopml.monitor.drift.compare import compare
    from shopml.monitor.drift.config import DriftConfig, FeatureOverride
    from shopml.monitor.drift.registry import TESTS, DriftTest, adjust_p_values, register
    from shopml.monitor.drift.report import DriftReport, FeatureDrift, MultivariateDrift, QualityIssue
    from shopml.monitor.job import MonitorResult, run_monitor
    from shopml.monitor.performance.estimate import estimate_performance
    from shopml.monitor.performance.streaming import StreamResult, detect_stream
    from shopml.monitor.performance.windows import (
        WindowData,
        WindowPerformance,
        evaluate_series,
        evaluate_window,
        realised_performance,
    )
    from shopml.profile.reference import Profile, build_profile
    from shopml.profile.sketch import CategoricalSketch, NumericSketch

_WHERE: dict[str, str] = {
    "CategoricalSketch": "shopml.profile.sketch",
    "DriftConfig": "shopml.monitor.drift.config",
    "DriftReport": "shopml.monitor.drift.report",
    "DriftTest": "shopml.monitor.drift.registry",
    "EVENT_KINDS": "shopml.journal.events",
    "Event": "shopml.journal.events",
    "EventStore": "shopml.journal.events",
    "FeatureDrift": "shopml.monitor.drift.report",
    "FeatureOverride": "shopml.monitor.drift.config",
    "LabelIngestResult": "shopml.logstore.labels",
    "LabelStore": "shopml.logstore.labels",
    "MonitorResult": "shopml.monitor.job",
    "MultivariateDrift": "shopml.monitor.drift.report",
    "NumericSketch": "shopml.profile.sketch",
    "PredictionLog": "shopml.logstore.reader",
    "Profile": "shopml.profile.reference",
    "QualityIssue": "shopml.monitor.drift.report",
    "SEVERITIES": "shopml.journal.events",
    "StreamResult": "shopml.monitor.performance.streaming",
    "TESTS": "shopml.monitor.drift.registry",
    "WindowData": "shopml.monitor.performance.windows",
    "WindowPerformance": "shopml.monitor.performance.windows",
    "adjust_p_values": "shopml.monitor.drift.registry",
    "build_profile": "shopml.profile.reference",
    "compare": "shopml.monitor.drift.compare",
    "detect_stream": "shopml.monitor.performance.streaming",
    "estimate_performance": "shopml.monitor.performance.estimate",
    "evaluate_series": "shopml.monitor.performance.windows",
    "evaluate_window": "shopml.monitor.performance.windows",
    "ingest_labels": "shopml.logstore.labels",
    "realised_performance": "shopml.monitor.performance.windows",
    "register": "shopml.monitor.drift.registry",
    "run_monitor": "shopml.monitor.job",
    "write_predictions": "shopml.logstore.writer",
}

__all__ = [
    "EVENT_KINDS",
    "SEVERITIES",
    "TESTS",
    "CategoricalSketch",
    "DriftConfig",
    "DriftReport",
    "DriftTest",
    "Event",
    "EventStore",
    "FeatureDrift",
    "FeatureOverride",
    "LabelIngestResult",
    "LabelStore",
    "MonitorResult",
    "MultivariateDrift",
    "NumericSketch",
    "PredictionLog",
    "Profile",
    "QualityIssue",
    "StreamResult",
    "WindowData",
    "WindowPerformance",
    "adjust_p_values",
    "build_profile",
    "compare",
    "detect_stream",
    "estimate_performance",
    "evaluate_series",
    "evaluate_window",
    "ingest_labels",
    "realised_performance",
    "register",
    "run_monitor",
    "write_predictions",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shopml.monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
