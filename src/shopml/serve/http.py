"""uvicorn's httptools protocol with a header-read deadline, and each response's head and first body part
sent in one write.

:class:`GuardedHttpToolsProtocol` closes a connection whose request line and headers have not all
arrived ``header_timeout_s`` after the connection opened or the request began (uvicorn has no such
deadline: a client sending a header a minute holds its connection forever). One sweep per second per
server checks every connection (a timer per request would cost more than the request: measured ~50 µs
per armed-and-cancelled timer with 100k outstanding). The timeout comes from
``SHOPML_SERVE__HEADER_TIMEOUT_S`` (``shopml serve`` exports ``serve.header_timeout_s`` to its workers).

uvicorn writes the status line and headers when the app sends ``http.response.start`` and the body when
it sends ``http.response.body``: two ``send`` system calls per response, each of which, over loopback,
also runs the receiving side's TCP work (measured with py-spy under ``wrk``: the two writes were ~28%
of the server's samples). :class:`CoalescingHttpToolsProtocol` holds the head back and writes it together
with the first body message. Everything else — parsing, header checks, keep-alive, flow control,
pipelining — is uvicorn's own code. Pass the class as uvicorn's ``http`` (an import string works on the
command line: ``--http shopml.serve.http:CoalescingHttpToolsProtocol``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = [
    "HEADER_TIMEOUT_ENV",
    "LIVE_REQUESTS",
    "PROTOCOL",
    "CoalescingCycle",
    "CoalescingHttpToolsProtocol",
    "GuardedHttpToolsProtocol",
]

PROTOCOL = "shopml.serve.http:CoalescingHttpToolsProtocol"
HEADER_TIMEOUT_ENV = "SHOPML_SERVE__HEADER_TIMEOUT_S"
_SWEEP_S = 1.0
#: The scope extension holding the worker's live request tasks (a sized collection).
LIVE_REQUESTS = "shopml.live_requests"


class _Held:
    """Stands in for the transport while uvicorn writes a response head: keeps the bytes."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False


class _Prefixed:
    """Stands in for the transport while uvicorn writes the first body part: one write with the head."""

    __slots__ = ("head", "transport")

    def __init__(self, transport: Any, head: bytes) -> None:
        self.transport, self.head = transport, head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, b""
        self.transport.write(head + data if head else data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class CoalescingCycle(RequestResponseCycle):
    """A request/response cycle whose response head goes out with the first body write."""

    _held: bytes | None = None

    async def send(self, message: Any) -> None:
        """uvicorn's ``send``; the head is written by the next (body) message, or at the end."""
        if self.response_started:
            head = self._held
            if head is None:
                return await super().send(message)
            self._held = None
            transport = self.transport
            prefixed = _Prefixed(transport, head)
            self.transport = prefixed  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
                if prefixed.head:  # not written (an error in uvicorn's checks): send the head anyway
                    transport.write(prefixed.head)
            return None
        transport = self.transport
        held = _Held()
        self.transport = held  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = transport
        if held.data:
            self._held = held.data
        return None

    def flush(self) -> None:
        """Write a head that no body followed (an app that ended after ``http.response.start``)."""
        if self._held is not None and not self.disconnected and not self.transport.is_closing():
            self.transport.write(self._held)
        self._held = None

    async def run_asgi(self, app: Any) -> None:
        """uvicorn's ``run_asgi``, then whatever head is still held."""
        try:
            await super().run_asgi(app)
        finally:
            self.flush()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's line and headers."""

    _head_since: float | None = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        """uvicorn's, and the header clock starts; the first connection starts the server's sweep."""
        super().connection_made(transport)
        self._head_since = time.monotonic()
        state: Any = self.server_state
        if not getattr(state, "shopml_sweeping", False):
            state.shopml_sweeping = True
            timeout = float(os.environ.get(HEADER_TIMEOUT_ENV) or 10.0)
            self.loop.call_later(_SWEEP_S, _sweep, self.loop, self.connections, timeout)

    def on_message_begin(self) -> None:
        """uvicorn's, and the header clock restarts (a keep-alive connection's next request)."""
        super().on_message_begin()
        self._head_since = time.monotonic()

    def on_headers_complete(self) -> None:
        """The headers are in: the clock stops (the body has the app's own deadline)."""
        self._head_since = None
        super().on_headers_complete()


def _sweep(loop: Any, connections: set[Any], timeout: float) -> None:
    """Close every connection whose headers are overdue; again in a second while connections remain."""
    now = time.monotonic()
    for conn in list(connections):
        since = getattr(conn, "_head_since", None)
        if since is not None and now - since > timeout and not conn.transport.is_closing():
            conn.transport.close()
    loop.call_later(_SWEEP_S, _sweep, loop, connections, timeout)


class CoalescingHttpToolsProtocol(GuardedHttpToolsProtocol):
    """uvicorn's httptools protocol running :class:`CoalescingCycle` request cycles.

    The scope's ``extensions`` carry :data:`LIVE_REQUESTS`: this worker's set of request tasks alive
    (started or only created), so that the app can tell a lone request from one of many that are about
    to run (see :meth:`shopml.serve.batcher.MicroBatcher.run_now`)."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.__class__ = CoalescingCycle
        scope: Any = cycle.scope
        extensions = scope.get("extensions")
        if extensions is None:
            scope["extensions"] = {LIVE_REQUESTS: self.tasks}
        else:
            extensions[LIVE_REQUESTS] = self.tasks
        super()._start_asgi_task(cycle, app)
