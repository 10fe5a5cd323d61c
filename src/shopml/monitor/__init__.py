"""Monitoring: profiles, drift tests, label joins, performance over time, streaming detectors, events."""

from shopml.monitor.compare import compare
from shopml.monitor.drift_config import DriftConfig, FeatureOverride
from shopml.monitor.drift_tests import TESTS, DriftTest, adjust_p_values, register
from shopml.monitor.events import EVENT_KINDS, SEVERITIES, Event, EventStore
from shopml.monitor.profile import Profile, build_profile
from shopml.monitor.report import DriftReport, FeatureDrift, MultivariateDrift, QualityIssue
from shopml.monitor.sketch import CategoricalSketch, NumericSketch

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
    "MultivariateDrift",
    "NumericSketch",
    "Profile",
    "QualityIssue",
    "adjust_p_values",
    "build_profile",
    "compare",
    "register",
]
