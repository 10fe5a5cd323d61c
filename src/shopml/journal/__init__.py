"""The event journal: the append-only record of what happened to each model, shared by every step."""

from __future__ import annotations

from shopml.journal.events import EVENT_KINDS, EVENTS_FILE, SEVERITIES, Event, EventStore, Severity

__all__ = ["EVENTS_FILE", "EVENT_KINDS", "SEVERITIES", "Event", "EventStore", "Severity"]
