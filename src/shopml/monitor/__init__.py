"""Monitoring: profiles, drift tests, label joins, performance over time, streaming detectors, events.

Names are imported lazily (PEP 562): ``import shopml.monitor.report`` does not pull in River, XGBoost,
Plotly or MLflow; ``from shopml.monitor import run_monitor`` imports what that needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# eager: the function shares its submodule's name, and importing ``shopml.monitor.compare`` later would
# rebind the package attribute to the module (scipy only; no River, XGBoost, Plotly or MLflow)
from shopml.monitor.compare import compare

if TYPE_CHECKING:
    from shopml.journal.events import EVENT_KINDS, SEVERITIES, Event, EventStore
    from shopml.monitor.drift_config import DriftConfig, FeatureOverride
    from shopml.monitor.drift_tests import TESTS, DriftTest, adjust_p_values, register
    from shopml.monitor.estimate import estimate_performance
    from shopml.monitor.job import MonitorResult, run_monitor
    from shopml.monitor.labels import LabelIngestResult, LabelStore, ingest_labels
    from shopml.monitor.performance import (
        WindowData,
        WindowPerformance,
        evaluate_series,
        evaluate_window,
        realised_performance,
    )
    from shopml.monitor.predlog import PredictionLog, write_predictions
    from shopml.monitor.profile import Profile, build_profile
    from shopml.monitor.report import DriftReport, FeatureDrift, MultivariateDrift, QualityIssue
    from shopml.monitor.sketch import CategoricalSketch, NumericSketch
    from shopml.monitor.streaming import StreamResult, detect_stream

_WHERE: dict[str, str] = {
    "CategoricalSketch": "shopml.monitor.sketch",
    "DriftConfig": "shopml.monitor.drift_config",
    "DriftReport": "shopml.monitor.report",
    "DriftTest": "shopml.monitor.drift_tests",
    "EVENT_KINDS": "shopml.journal.events",
    "Event": "shopml.journal.events",
    "EventStore": "shopml.journal.events",
    "FeatureDrift": "shopml.monitor.report",
    "FeatureOverride": "shopml.monitor.drift_config",
    "LabelIngestResult": "shopml.monitor.labels",
    "LabelStore": "shopml.monitor.labels",
    "MonitorResult": "shopml.monitor.job",
    "MultivariateDrift": "shopml.monitor.report",
    "NumericSketch": "shopml.monitor.sketch",
    "PredictionLog": "shopml.monitor.predlog",
    "Profile": "shopml.monitor.profile",
    "QualityIssue": "shopml.monitor.report",
    "SEVERITIES": "shopml.journal.events",
    "StreamResult": "shopml.monitor.streaming",
    "TESTS": "shopml.monitor.drift_tests",
    "WindowData": "shopml.monitor.performance",
    "WindowPerformance": "shopml.monitor.performance",
    "adjust_p_values": "shopml.monitor.drift_tests",
    "build_profile": "shopml.monitor.profile",
    "detect_stream": "shopml.monitor.streaming",
    "estimate_performance": "shopml.monitor.estimate",
    "evaluate_series": "shopml.monitor.performance",
    "evaluate_window": "shopml.monitor.performance",
    "ingest_labels": "shopml.monitor.labels",
    "realised_performance": "shopml.monitor.performance",
    "register": "shopml.monitor.drift_tests",
    "run_monitor": "shopml.monitor.job",
    "write_predictions": "shopml.monitor.predlog",
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
