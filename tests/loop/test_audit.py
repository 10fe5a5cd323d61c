"""Audit events are written once; the webhook is signed and delivered to a real local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shopml.journal.events import Event, EventStore
from shopml.loop.audit import SIGNATURE_HEADER, Audit, verify_signature
from shopml.loop.policy import WebhookPolicy

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append({"body": body, "headers": dict(self.headers)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_emit_is_idempotent_and_signed_webhook_arrives(tmp_path: Path, receiver: Any) -> None:
    url, got = receiver
    hook = WebhookPolicy(url=url, secret="s3cret", on=["promotion", "drift"])
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
    assert verify_signature(body, headers[SIGNATURE_HEADER], "s3cret")
    assert not verify_signature(body, headers[SIGNATURE_HEADER], "wrong")
    assert Event.model_validate_json(body).id == "r1-promotion" and headers["X-Shopml-Event"] == "promotion"
    assert audit.delivered == [("r1-promotion", 204), ("r1-trigger", 204)]


def test_unreachable_webhook_does_not_stop_the_loop(tmp_path: Path) -> None:
    hook = WebhookPolicy(url="http://127.0.0.1:9/none", secret="x", timeout_s=0.5)
    audit = Audit(EventStore(tmp_path), "fraud", hook)
    assert audit.emit("e1", "promotion", "v1 promoted", ts=T, evidence={"version": 1}) is not None
    assert audit.delivered == []
