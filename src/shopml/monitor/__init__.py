"""Monitoring: profiles, drift tests, label joins, performance over time, streaming detectors, events."""

from shopml.monitor.compare import compare
from shopml.monitor.drift_config import DriftConfig, FeatureOverride
from shopml.monitor.drift_tests import TESTS, DriftTest, adjust_p_values, register
from shopml.monitor.estimate import estimate_performance
from shopml.monitor.events import EVENT_KINDS, SEVERITIES, Event, EventStore
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
