"""Monitoring: profiles, drift tests, label joins, performance over time, streaming detectors, events."""

from shopml.monitor.events import EVENT_KINDS, SEVERITIES, Event, EventStore

__all__ = [
    "EVENT_KINDS",
    "SEVERITIES",
    "Event",
    "EventStore",
]
