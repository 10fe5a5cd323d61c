"""The audit trail: loop events with deterministic ids (so a resumed step never writes one twice) and
the optional HMAC-SHA256-signed webhook.

The webhook POSTs the event's JSON; ``X-Shopml-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact
body bytes under the shared secret, ``X-Shopml-Event`` the event kind. A receiver verifies with
:func:`verify_signature`. Delivery failures are logged and never stop the loop.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from typing import Any

import httpx

from shopml.journal.events import Event, EventStore, Severity
from shopml.loop.policy import WebhookPolicy

__all__ = ["SIGNATURE_HEADER", "Audit", "sign", "verify_signature"]

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Shopml-Signature"


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC of body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str, secret: str) -> bool:
    """Constant-time check of a received signature header."""
    return hmac.compare_digest(sign(body, secret), header)


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
        """POST the signed event to the webhook; returns the status or ``None`` (no URL or failure)."""
        hook = self.webhook
        if not hook.url:
            return None
        secret = hook.secret or os.environ.get(hook.secret_env, "")
        body = event.model_dump_json().encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Shopml-Event": event.kind}
        if secret:
            headers[SIGNATURE_HEADER] = sign(body, secret)
        try:
            resp = httpx.post(hook.url, content=body, headers=headers, timeout=hook.timeout_s)
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed for event %s: %s", hook.url, event.id, exc)
            return None
        self.delivered.append((event.id, resp.status_code))
        if resp.status_code >= 400:
            log.warning("webhook %s answered %d for event %s", hook.url, resp.status_code, event.id)
        return resp.status_code
