"""Hostile and broken clients: each probe gets a 4xx with a JSON body naming the field (or a closed
connection for a stalled one), and the server keeps serving everyone else."""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.serve_fixture import FixtureModel

from shopml.serve.http import HEADER_TIMEOUT_ENV

from .conftest import Running, make_registry, serve_settings, start_server

PREDICT = "/v1/models/fraud/predict"
INFER = "/v2/models/fraud/infer"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, models: dict[int, FixtureModel]) -> Iterator[Running]:
    """A server with tight edge settings: 2 s header and body deadlines, 20 rows per request."""
    ws = tmp_path_factory.mktemp("edge")
    mp = pytest.MonkeyPatch()
    mp.setenv(HEADER_TIMEOUT_ENV, "1.0")
    settings = serve_settings(
        ws, max_rows_per_request=20, body_timeout_s=1.0, header_timeout_s=1.0, event_time_window_s=3600
    )
    run = start_server(settings, make_registry(ws, models))
    yield run
    run.stop()
    mp.undo()


def _v2(rows: list[dict[str, Any]], kinds: dict[str, str], **extra: Any) -> dict[str, Any]:
    dtypes = {"numeric": "FP64", "boolean": "BOOL", "categorical": "BYTES"}
    inputs = [
        {"name": n, "shape": [len(rows)], "datatype": dtypes[k], "data": [r[n] for r in rows]}
        for n, k in kinds.items()
    ]
    return {"inputs": inputs, **extra}


def _error(r: httpx.Response, status: int, text: str) -> None:
    assert r.status_code == status, r.text
    assert text in r.json()["error"], r.json()


def test_event_time_overflow_is_a_422(edge: Running, rows: list[dict[str, Any]]) -> None:
    row = {**rows[0], "event_time": "0001-01-01T00:00:00+14:00"}
    r = httpx.post(f"{edge.url}{PREDICT}", json={"instances": [row]})
    _error(r, 422, "field 'event_time' must be an ISO-8601 timestamp")


def test_deeply_nested_name_is_a_400(edge: Running) -> None:
    name = "[" * 1000 + '"amount"' + "]" * 1000  # orjson parses up to 1024 levels
    body = '{"inputs": [{"name": ' + name + ', "shape": [1], "datatype": "FP32", "data": [1.0]}]}'
    r = httpx.post(f"{edge.url}{INFER}", content=body.encode())
    _error(r, 400, "inputs[0].name must be a string, got a list of 1 item")


def test_request_id_with_a_newline_is_refused(edge: Running, rows: list[dict[str, Any]]) -> None:
    kinds = edge.app.repo.get("fraud").codec.kinds
    r = httpx.post(f"{edge.url}{INFER}", json=_v2(rows[:1], kinds, id="abc\r\nx-evil: 1"))
    _error(r, 400, "'id' must be 1 to 128 printable ASCII characters")
    assert "x-evil" not in r.headers
    ok = httpx.post(f"{edge.url}{INFER}", json=_v2(rows[:1], kinds, id="abc-1"))
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "abc-1"


def test_repeated_outputs_are_refused(edge: Running, rows: list[dict[str, Any]]) -> None:
    kinds = edge.app.repo.get("fraud").codec.kinds
    outputs = [{"name": "score"}] * 50
    r = httpx.post(f"{edge.url}{INFER}", json=_v2(rows[:1], kinds, outputs=outputs))
    _error(r, 400, "outputs ['score'] are requested more than once")


def test_rows_per_request_are_capped(edge: Running, rows: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{edge.url}{PREDICT}", json={"instances": rows[:21]})
    _error(r, 413, "21 rows in one request exceed the limit of 20 (serve.max_rows_per_request)")
    kinds = edge.app.repo.get("fraud").codec.kinds
    r = httpx.post(f"{edge.url}{INFER}", json=_v2(rows[:21], kinds))
    _error(r, 413, "serve.max_rows_per_request")
    assert httpx.post(f"{edge.url}{PREDICT}", json={"instances": rows[:20]}).status_code == 200


def test_client_event_time_outside_the_window_is_refused(edge: Running, rows: list[dict[str, Any]]) -> None:
    row = {**rows[0], "event_time": "2020-01-01T00:00:00+00:00"}
    r = httpx.post(f"{edge.url}{PREDICT}", json={"instances": [row]})
    _error(r, 422, "client times must be within 3600 s (serve.event_time_window_s")


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return out
        if not chunk:
            return out
        out += chunk


def test_a_stalled_body_gets_408_and_the_connection_closes(edge: Running, rows: list[dict[str, Any]]) -> None:
    sock = _raw(edge.url)
    t0 = time.monotonic()
    sock.sendall(
        b"POST /v1/models/fraud/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: 60000\r\n\r\n{"
    )
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"serve.body_timeout_s" in answer and time.monotonic() - t0 < 8
    assert httpx.post(f"{edge.url}{PREDICT}", json={"instances": rows[:1]}).status_code == 200


def test_stalled_headers_are_cut_off(edge: Running) -> None:
    socks = [_raw(edge.url) for _ in range(20)]
    t0 = time.monotonic()
    for s in socks:
        s.sendall(b"POST /v1/models/fraud/predict HTTP/1.1\r\nhost: x\r\n")  # and never the rest
    for s in socks:
        assert _read_all(s) == b""  # closed by the server
        s.close()
    assert time.monotonic() - t0 < 8
    assert httpx.get(f"{edge.url}/v2/health/live").status_code == 200


def test_connection_limit_answers_503(tmp_path: Path, models: dict[int, FixtureModel]) -> None:
    run = start_server(serve_settings(tmp_path, max_connections=3), make_registry(tmp_path, models))
    try:
        held = [_raw(run.url) for _ in range(3)]
        time.sleep(0.3)
        r = httpx.get(f"{run.url}/v2/health/live")
        assert r.status_code == 503
        for s in held:
            s.close()
        time.sleep(0.3)
        assert httpx.get(f"{run.url}/v2/health/live").status_code == 200
    finally:
        run.stop()


def test_probes_leave_the_server_serving(edge: Running, rows: list[dict[str, Any]]) -> None:
    body = {"instances": copy.deepcopy(rows[:2])}
    assert httpx.post(f"{edge.url}{PREDICT}", json=body).status_code == 200
    assert httpx.get(f"{edge.url}/v2/health/ready").status_code == 200
