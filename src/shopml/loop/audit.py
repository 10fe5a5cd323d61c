"""The audit trail: loop events with deterministic ids (so a resumed step never writes one twice), each
sent to the optional webhook (:mod:`shopml.loop.webhook`: signed over timestamp + body) when its topic is
subscribed. Delivery failures are logged and never stop the loop.
"""

from __future__ import annotations

from typing import Any

from shopml.journal.events import Event, EventStore, Severity
from shopml.loop.policy import WebhookPolicy
from shopml.loop.webhook import deliver

__all__ = ["Audit"]


class Audit:
    """Append loop events exactly once and notify the webhook."""

    def __init__(self, store: EventStore, model: str, webhook: WebhookPolicy | None = None) -> None:
        self.store = store
        self.model = model
        self.webhook = webhook or WebhookPolicy()
        self.delivered: list[tuple[str, int]] = []  # (event id, HTTP status) of webhook calls

    def _known_ids(self) -> set[str]:
        return {e.id for e in self.store.read(model=self.model)}

    def emit(
        self,
        event_id: str,
        kind: str,
        summary: str,
        *,
        ts: Any,
        severity: Severity = "info",
        evidence: dict[str, Any] | None = None,
        links: list[str] | None = None,
        topic: str | None = None,
    ) -> Event | None:
        """Append the event unless ``event_id`` exists already (then ``None``); notify if its ``topic``
        (default: the kind) is one the webhook is subscribed to."""
        if event_id in self._known_ids():
            return None
        event = Event(
            id=event_id,
            ts=ts,
            kind=kind,
            model=self.model,
            severity=severity,
            summary=summary,
            evidence=evidence or {},
            links=links or [],
        )
        self.store.append(event)
        self.publish(event, topic)
        return event

    def publish(self, event: Event, topic: str | None = None) -> int | None:
        """Notify the webhook of an appended event if its ``topic`` (default: the kind) is subscribed."""
        return self.notify(event) if (topic or event.kind) in self.webhook.on else None

    def notify(self, event: Event) -> int | None:
        """POST the event to the webhook; returns the status or ``None`` (no URL or failure)."""
        status = deliver(self.webhook, event)
        if status is not None:
            self.delivered.append((event.id, status))
        return status
