"""uvicorn's httptools protocol, with each response's head and first body part sent in one write.

uvicorn writes the status line and headers when the app sends ``http.response.start`` and the body when
it sends ``http.response.body``: two ``send`` system calls per response, each of which, over loopback,
also runs the receiving side's TCP work (measured with py-spy under ``wrk``: the two writes were ~28%
of the server's samples). :class:`CoalescingHttpToolsProtocol` holds the head back and writes it together
with the first body message. Everything else — parsing, header checks, keep-alive, flow control,
pipelining — is uvicorn's own code. Pass the class as uvicorn's ``http`` (an import string works on the
command line: ``--http shopml.serve.http:CoalescingHttpToolsProtocol``).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = ["LIVE_REQUESTS", "PROTOCOL", "CoalescingCycle", "CoalescingHttpToolsProtocol"]

PROTOCOL = "shopml.serve.http:CoalescingHttpToolsProtocol"
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


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
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
