"""Webhook deliveries to a real receiver on 127.0.0.1: signed over timestamp + body, replays rejected,
unsigned sending said once, and the URL (which may hold a token) never written to the logs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

import pytest

from shopml.errors import UnauthorizedError
from shopml.journal.events import Event
from shopml.loop.policy import WebhookPolicy
from shopml.loop.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_signature,
    deliver,
    redact_url,
    verify_signature,
)

EVENT = Event(kind="promotion", model="fraud", summary="v2 promoted", evidence={"version": 2, "previous": 1})


def test_delivery_is_signed_over_timestamp_and_body(receiver: Any) -> None:
    url, got = receiver
    before = int(time.time())
    assert deliver(WebhookPolicy(url=url + "/hook", secret="s3cret"), EVENT) == 204
    body, headers = got[0]["body"], got[0]["headers"]
    ts = int(headers[TIMESTAMP_HEADER])
    assert before <= ts <= time.time() and Event.model_validate_json(body) == EVENT
    expected = hmac.new(b"s3cret", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert verify_signature(body, headers, "s3cret")
    lower = {k.lower(): v for k, v in headers.items()}  # header names in any case
    assert verify_signature(body, lower, "s3cret")
    assert not verify_signature(body, headers, "wrong secret")
    assert not verify_signature(body.replace(b"v2", b"v3"), headers, "s3cret")
    moved = {**headers, TIMESTAMP_HEADER: str(ts + 1)}  # the body under another timestamp
    assert not verify_signature(body, moved, "s3cret")
    body_only = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert not verify_signature(body, {**headers, SIGNATURE_HEADER: body_only}, "s3cret")


def test_replayed_or_future_deliveries_are_rejected(receiver: Any) -> None:
    url, got = receiver
    deliver(WebhookPolicy(url=url + "/hook", secret="s3cret"), EVENT)
    body, headers = got[0]["body"], got[0]["headers"]
    ts = int(headers[TIMESTAMP_HEADER])
    assert verify_signature(body, headers, "s3cret", now=ts + 299)
    with pytest.raises(UnauthorizedError, match=r"is 3600 s old \(tolerance 300 s\): a replay"):
        check_signature(body, headers, "s3cret", now=ts + 3600)
    with pytest.raises(UnauthorizedError, match="s far in the future"):
        check_signature(body, headers, "s3cret", now=ts - 301)
    assert verify_signature(body, headers, "s3cret", now=ts + 3600, tolerance_s=7200)
    with pytest.raises(UnauthorizedError, match=f"no {TIMESTAMP_HEADER} header"):
        check_signature(body, {SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}, "s3cret")
    with pytest.raises(UnauthorizedError, match="must be Unix seconds, got 'yesterday'"):
        check_signature(body, {**headers, TIMESTAMP_HEADER: "yesterday"}, "s3cret")
    with pytest.raises(TypeError, match="not the signature alone"):
        check_signature(body, headers[SIGNATURE_HEADER], "s3cret")  # type: ignore[arg-type]


def test_without_a_secret_events_go_out_unsigned_and_a_warning_says_so_once(
    receiver: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, got = receiver
    monkeypatch.delenv("SHOPML_WEBHOOK_SECRET", raising=False)
    hook = WebhookPolicy(url=url + "/unsigned")
    with caplog.at_level(logging.WARNING, logger="shopml.loop.webhook"):
        assert deliver(hook, EVENT) == 204 and deliver(hook, EVENT) == 204
    warnings = [r.getMessage() for r in caplog.records if "UNSIGNED" in r.getMessage()]
    assert len(warnings) == 1 and "$SHOPML_WEBHOOK_SECRET" in warnings[0], caplog.text
    assert len(got) == 2 and all(SIGNATURE_HEADER not in d["headers"] for d in got)
    assert not verify_signature(got[0]["body"], got[0]["headers"], "any")
    monkeypatch.setenv("SHOPML_WEBHOOK_SECRET", "from-env")
    deliver(hook, EVENT)
    assert verify_signature(got[2]["body"], got[2]["headers"], "from-env")


def test_the_webhook_url_never_reaches_the_logs(receiver: Any, caplog: pytest.LogCaptureFixture) -> None:
    url, got = receiver
    token = "tok-7f3a9c"
    host = url.removeprefix("http://")
    failing = f"http://user:{token}@{host}/hooks/fail/{token}?token={token}"
    refused = f"http://127.0.0.1:9/hooks/{token}?token={token}"
    with caplog.at_level(logging.DEBUG):
        assert deliver(WebhookPolicy(url=failing, secret="s"), EVENT) == 500
        assert deliver(WebhookPolicy(url=refused, timeout_s=0.5), EVENT) is None
    assert got[0]["path"] == f"/hooks/fail/{token}?token={token}"  # the token did reach the receiver
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in text and "user:" not in text, text
    assert f'HTTP Request: POST {url} "HTTP/1.0 500' in text  # httpx's own line, redacted
    assert f"webhook {url} answered 500" in text and "webhook http://127.0.0.1:9 failed" in text
    assert "UNSIGNED" in text


def test_redact_url_keeps_scheme_host_and_port() -> None:
    assert redact_url("https://hooks.example.com/services/T0/B0/xyz?k=1") == "https://hooks.example.com"
    assert redact_url("http://u:p@127.0.0.1:8080/x#frag") == "http://127.0.0.1:8080"
    assert redact_url("http://[::1]:9000/t") == "http://[::1]:9000"
