"""Audit events are written once and sent to the webhook when their topic is subscribed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopml.journal.events import Event, EventStore
from shopml.loop.audit import Audit
from shopml.loop.policy import WebhookPolicy
from shopml.loop.webhook import verify_signature

T = datetime(2026, 3, 1, tzinfo=UTC)


def test_emit_is_idempotent_and_signed_webhook_arrives(tmp_path: Path, receiver: Any) -> None:
    url, got = receiver
    hook = WebhookPolicy(url=url + "/hook", secret="s3cret", on=["promotion", "drift"])
    audit = Audit(EventStore(tmp_path), "fraud", hook)
    first = audit.emit("r1-promotion", "promotion", "v2 promoted", ts=T, evidence={"version": 2})
    again = audit.emit("r1-promotion", "promotion", "v2 promoted", ts=T, evidence={"version": 2})
    gate = {"version": 2, "verdict": "promote"}
    audit.emit("r1-gate", "gate", "gate promote", ts=T, evidence=gate)  # not subscribed
    trigger = {"request_id": "r1", "reasons": ["drift"]}
    audit.emit("r1-trigger", "trigger", "drift", ts=T, topic="drift", evidence=trigger)
    assert first is not None and again is None
    assert [e.id for e in EventStore(tmp_path).read()] == ["r1-promotion", "r1-gate", "r1-trigger"]
    assert len(got) == 2
    body, headers = got[0]["body"], got[0]["headers"]
    assert verify_signature(body, headers, "s3cret") and not verify_signature(body, headers, "wrong")
    assert Event.model_validate_json(body).id == "r1-promotion" and headers["X-Shopml-Event"] == "promotion"
    assert audit.delivered == [("r1-promotion", 204), ("r1-trigger", 204)]


def test_unreachable_webhook_does_not_stop_the_loop(tmp_path: Path) -> None:
    hook = WebhookPolicy(url="http://127.0.0.1:9/none", secret="x", timeout_s=0.5)
    audit = Audit(EventStore(tmp_path), "fraud", hook)
    assert audit.emit("e1", "promotion", "v1 promoted", ts=T, evidence={"version": 1}) is not None
    assert audit.delivered == []
