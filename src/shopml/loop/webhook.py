"""The loop's webhook: journal events POSTed as JSON, signed over timestamp + body, replay-protected.

Each delivery carries ``X-Shopml-Event`` (the event kind), ``X-Shopml-Timestamp`` (Unix seconds at
sending) and ``X-Shopml-Signature: sha256=<hex>``, the HMAC-SHA256 under the shared secret of
``f"{timestamp}." + body`` (the exact body bytes). A receiver checks a delivery with
:func:`verify_signature` (or :func:`check_signature`, which says why not): the HMAC must match and the
timestamp must lie within ``tolerance_s`` (300 s) of the receiver's clock, so a captured delivery does not
verify again later, and a body cannot be moved under another timestamp.

Without a secret (``webhook.secret`` or the ``webhook.secret_env`` variable) events go out **unsigned**; a
warning says so once per URL. The URL may embed a token (in its path, query or user part), so logs show
only ``scheme://host[:port]`` (:func:`redact_url`), also in ``httpx``'s own request log lines.

>>> body = b'{"kind": "promotion"}'
>>> headers = {TIMESTAMP_HEADER: "1767225600", SIGNATURE_HEADER: sign(body, "s3cret", 1767225600)}
>>> verify_signature(body, headers, "s3cret", now=1767225660)
True
>>> verify_signature(body, headers, "s3cret", now=1767225600 + 3600)  # an hour later: a replay
False
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from shopml.errors import UnauthorizedError
from shopml.journal.events import Event
from shopml.loop.policy import WebhookPolicy

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_S",
    "check_signature",
    "deliver",
    "redact_url",
    "sign",
    "verify_signature",
]

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Shopml-Signature"
TIMESTAMP_HEADER = "X-Shopml-Timestamp"
EVENT_HEADER = "X-Shopml-Event"
#: How far a delivery's timestamp may lie from the receiver's clock, either way (seconds).
TOLERANCE_S = 300.0

_warned_unsigned: set[str] = set()
_secret_urls: dict[str, str] = {}  # webhook URL (as given and as httpx prints it) → redacted form


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: no user, password, path or query (they may hold a token)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable webhook URL>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme or '?'}://{host}{port}"


class _RedactWebhookUrls(logging.Filter):
    """Replace webhook URLs by their redacted form in log records (``httpx`` logs each request's URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secret_urls:
            message = record.getMessage()
            redacted = _scrub(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


def _scrub(text: str) -> str:
    for url, safe in _secret_urls.items():
        text = text.replace(url, safe)
    return text


logging.getLogger("httpx").addFilter(_RedactWebhookUrls())


def _remember(url: str) -> str:
    safe = redact_url(url)
    _secret_urls[url] = safe
    with contextlib.suppress(httpx.InvalidURL):
        _secret_urls[str(httpx.URL(url))] = safe
    return safe


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """``sha256=<hex HMAC-SHA256 of f"{timestamp}." + body>`` under ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise :class:`~shopml.errors.UnauthorizedError` saying why a delivery does not verify.

    ``headers`` are the request's headers (names in any case); ``now`` defaults to this machine's clock.
    """
    if isinstance(headers, str | bytes):
        raise TypeError(
            f"pass the request's headers ({SIGNATURE_HEADER} and {TIMESTAMP_HEADER}), not the signature alone"
        )
    lower = {k.lower(): v for k, v in headers.items()}
    signature = lower.get(SIGNATURE_HEADER.lower())
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    if not signature or not stamp:
        missing = SIGNATURE_HEADER if not signature else TIMESTAMP_HEADER
        raise UnauthorizedError(f"webhook delivery has no {missing} header (unsigned or not from shopml)")
    try:
        ts = int(stamp)
    except ValueError:
        raise UnauthorizedError(f"{TIMESTAMP_HEADER} must be Unix seconds, got {stamp[:40]!r}") from None
    age = (time.time() if now is None else now) - ts
    if abs(age) > tolerance_s:
        side = "old" if age > 0 else "far in the future"
        raise UnauthorizedError(
            f"webhook timestamp {ts} is {abs(age):.0f} s {side} (tolerance {tolerance_s:g} s): a replay?"
        )
    if not hmac.compare_digest(sign(body, secret, ts), signature):
        raise UnauthorizedError("webhook signature does not match the body and timestamp")


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether a delivery is authentic and fresh (:func:`check_signature` without the reason)."""
    try:
        check_signature(body, headers, secret, tolerance_s=tolerance_s, now=now)
    except UnauthorizedError:
        return False
    return True


def deliver(hook: WebhookPolicy, event: Event, *, now: float | None = None) -> int | None:
    """POST ``event`` to ``hook.url``; returns the HTTP status, or ``None`` (no URL, or not delivered).

    Failures are logged (with the redacted URL) and never raised: a webhook does not stop the loop.
    """
    if not hook.url:
        return None
    url = hook.url
    where = _remember(url)
    secret = hook.secret or os.environ.get(hook.secret_env, "")
    body = event.model_dump_json().encode("utf-8")
    ts = int(time.time() if now is None else now)
    headers = {"Content-Type": "application/json", EVENT_HEADER: event.kind, TIMESTAMP_HEADER: str(ts)}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret, ts)
    elif where not in _warned_unsigned:
        _warned_unsigned.add(where)
        log.warning(
            "webhook %s: no secret set (webhook.secret or $%s): events are sent UNSIGNED, and a receiver"
            " cannot tell them from forgeries",
            where,
            hook.secret_env,
        )
    try:
        resp = httpx.post(url, content=body, headers=headers, timeout=hook.timeout_s)
    except httpx.HTTPError as exc:
        reason = _scrub(str(exc))
        log.warning("webhook %s failed for event %s: %s: %s", where, event.id, type(exc).__name__, reason)
        return None
    if resp.status_code >= 400:
        log.warning("webhook %s answered %d for event %s", where, resp.status_code, event.id)
    return resp.status_code
