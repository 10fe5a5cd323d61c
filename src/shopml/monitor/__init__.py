"""Monitoring: profiles, drift tests, label joins, performance over time, streaming detectors, events."""

from shopml.monitor.events import EVENT_KINDS, SEVERITIES, Event, EventStore
from shopml.monitor.profile import Profile, build_profile
from shopml.monitor.sketch import CategoricalSketch, NumericSketch

__all__ = [
    "EVENT_KINDS",
    "SEVERITIES",
    "CategoricalSketch",
    "Event",
    "EventStore",
    "NumericSketch",
    "Profile",
    "build_profile",
]
