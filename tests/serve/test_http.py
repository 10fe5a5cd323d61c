"""The coalescing uvicorn protocol: one write per plain response, same bytes as uvicorn, edge cases intact."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shopml.serve.http import LIVE_REQUESTS, CoalescingHttpToolsProtocol

from .conftest import run_uvicorn

WRITES: list[bytes] = []


class _Counting:
    """A transport that records every write (the test's window on what goes to the socket)."""

    def __init__(self, transport: Any) -> None:
        self._t = transport

    def write(self, data: bytes) -> None:
        WRITES.append(bytes(data))
        self._t.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)


class _CountingProtocol(CoalescingHttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(_Counting(transport))  # type: ignore[arg-type]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        msg = await receive()
        body += msg.get("body", b"")
        more = msg.get("more_body", False)
    path = scope["path"]
    if path == "/live":
        live = scope.get("extensions", {}).get(LIVE_REQUESTS)
        out = str(-1 if live is None else len(live)).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(out))]}
        )
        await send({"type": "http.response.body", "body": out})
        return
    if path == "/boom":
        raise RuntimeError("boom before the response")
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-kind", b"stream")]})
        await send({"type": "http.response.body", "body": b"part1-", "more_body": True})
        await send({"type": "http.response.body", "body": b"part2", "more_body": False})
        return
    if path == "/half":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        raise RuntimeError("boom after the head")
    out = b"echo:" + body
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})


def _serve(protocol: Any) -> Iterator[str]:
    url, server, thread = run_uvicorn(_app, protocol, lifespan="off", log_level="critical")
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The echo app on uvicorn with the counting coalescing protocol."""
    yield from _serve(_CountingProtocol)


@pytest.fixture(scope="module")
def stock_url() -> Iterator[str]:
    """The same app on uvicorn's own httptools protocol (the reference)."""
    yield from _serve("httptools")


def test_a_plain_response_is_one_write_with_the_same_answer_as_uvicorn(url: str, stock_url: str) -> None:
    WRITES.clear()
    with httpx.Client() as client:
        for _ in range(3):  # keep-alive: each response on the same connection is one write
            r = client.post(f"{url}/x", content=b"hello")
            assert (r.status_code, r.content, r.headers["content-type"]) == (201, b"echo:hello", "text/plain")
    assert len(WRITES) == 3
    assert WRITES[0].startswith(b"HTTP/1.1 201 Created\r\n") and WRITES[0].endswith(b"\r\n\r\necho:hello")
    ref = httpx.post(f"{stock_url}/x", content=b"hello")
    assert (ref.status_code, ref.content, ref.headers["content-length"]) == (201, b"echo:hello", "10")
    assert sorted(k for k in r.headers if k != "date") == sorted(k for k in ref.headers if k != "date")


def test_head_streaming_and_errors_behave_as_uvicorn(url: str, stock_url: str) -> None:
    for base in (url, stock_url):
        head = httpx.head(f"{base}/x")
        assert head.status_code == 201 and head.headers["content-length"] == "5" and head.content == b""
        stream = httpx.get(f"{base}/stream")
        assert (stream.status_code, stream.content, stream.headers["x-kind"]) == (
            200,
            b"part1-part2",
            "stream",
        )
        boom = httpx.get(f"{base}/boom")
        assert (boom.status_code, boom.content) == (500, b"Internal Server Error")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{base}/half")  # head promised 5 bytes, the app died: the connection is closed


def test_expect_continue_and_pipelined_requests(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"ok")
        first = b""
        while not first.endswith(b"echo:ok"):
            first += s.recv(1000)
        req = b"POST /p%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d"
        s.sendall(req % (1, 1) + req % (2, 2))  # two requests in one packet: answered in order
        got = b""
        while got.count(b"echo:") < 2:
            got += s.recv(1000)
    assert first.startswith(b"HTTP/1.1 201") and got.index(b"echo:1") < got.index(b"echo:2")


def test_the_app_sees_how_many_requests_are_live(url: str, stock_url: str) -> None:
    assert httpx.get(f"{url}/live").text == "1"  # a lone request: the app may skip the batcher
    assert httpx.get(f"{stock_url}/live").text == "-1"  # uvicorn's own protocol does not tell

    async def many() -> list[str]:
        async with httpx.AsyncClient() as client:
            rs = await asyncio.gather(*(client.get(f"{url}/live") for _ in range(8)))
        return [r.text for r in rs]

    assert all(int(x) >= 1 for x in asyncio.run(many()))
