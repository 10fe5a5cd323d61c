"""The ASGI application: a thin raw-ASGI shell over the serving data plane (:mod:`shopml.serve.dataplane`).

No web framework on the hot path (measured: Starlette/FastAPI layers cost more than the model). The
shell parses the path, reads the body under a size limit, decodes it with the protocol codec, calls the
data plane, encodes the answer, and maps :class:`~shopml.errors.ShopmlError` to its status with a JSON
``{"error": ..., "kind": ...}`` body. Anything else is logged and answered 500 without killing the
worker. Every answer carries ``x-request-id`` (the client's, when it sent a sane one).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Sized
from typing import Any

import orjson

from shopml.config.settings import ServeSettings
from shopml.errors import ConfigError, NotFoundError, NotReadyError, PayloadTooLargeError, ShopmlError
from shopml.logstore.writer import LogWriter
from shopml.serve.dataplane import DataPlane, Prediction
from shopml.serve.http import LIVE_REQUESTS
from shopml.serve.metrics import CONTENT_TYPE, ServeMetrics
from shopml.serve.openapi import openapi_spec
from shopml.serve.protocol import decode_infer, decode_v1, encode_binary, request_id
from shopml.serve.repository import ModelRepository

__all__ = ["ServeApp"]

log = logging.getLogger(__name__)
JSON = b"application/json"
OCTETS = b"application/octet-stream"
_SWEEP_S = 0.5


class MethodNotAllowedError(ShopmlError):
    """A known path asked with the wrong HTTP method."""

    status = 405
    kind = "method_not_allowed"


class RequestTimeoutError(ShopmlError):
    """A request body that did not arrive within ``serve.body_timeout_s``."""

    status = 408
    kind = "request_timeout"


class _ClientGoneError(Exception):
    pass


class _ModelNotReadyError(NotReadyError):
    """A model readiness probe answered "no": 503 with the OIP body ``{"name", "ready": false}``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"model '{name}' is not ready (failed to load, or unloaded)")
        self.name = name

    def to_dict(self) -> dict[str, Any]:  # type: ignore[override]
        return {"name": self.name, "ready": False, "error": self.message, "kind": self.kind}


class _Call:
    __slots__ = ("endpoint", "header_in", "header_out", "live", "logged", "model", "rid", "version")

    def __init__(self, rid: str | None, live: Sized | None) -> None:
        self.rid = rid
        self.header_in: bytes | None = None  # the request's Inference-Header-Content-Length
        self.header_out: int | None = None  # the answer's, when it carries binary outputs
        self.live = live  # the server's live requests, when it tells (shopml.serve.http)
        self.endpoint = "other"
        self.model = ""
        self.version = ""
        self.logged: Prediction | None = None  # written to the log after the answer


class ServeApp:
    """``ServeApp(repository, settings, metrics, prediction_log)`` is an ASGI 3 callable over a
    :class:`DataPlane` built from those parts (or ``ServeApp.over(plane)`` over an existing one)."""

    def __init__(
        self,
        repository: ModelRepository,
        settings: ServeSettings,
        metrics: ServeMetrics,
        prediction_log: LogWriter | None = None,
        *,
        poll: bool = True,
    ) -> None:
        self.plane = DataPlane(repository, settings, metrics, prediction_log, poll=poll)
        self.settings = settings
        self._openapi = orjson.dumps(openapi_spec())
        self._reading: dict[asyncio.Task[Any], float] = {}  # request tasks reading a body, since when
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self.grpc: Any = None  # the gRPC server (shopml.serve.grpc.GrpcServer) when serve.grpc_port is set

    @property
    def repo(self) -> ModelRepository:
        """The data plane's model repository."""
        return self.plane.repo

    # --- ASGI entry ----------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    await self.startup()
                    # Everything loaded so far (ONNX Runtime, MLflow, numpy) lives for the whole process:
                    # move it out of the collector's reach, or each full collection walks millions of
                    # objects and stalls the event loop (measured: p99 ~200 ms at 32 connections).
                    gc.collect()
                    gc.freeze()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Start the data plane (load champions, log writer, registry poller), the body deadlines and,
        with ``serve.grpc_port``, the gRPC server on this event loop over the same data plane."""
        await self.plane.startup()
        self._sweeper = asyncio.create_task(self._sweep())
        if self.settings.grpc_port:
            try:
                from shopml.serve.grpc import start_grpc
            except ImportError as exc:
                raise ConfigError(
                    f"serve.grpc_port (--grpc-port) needs grpcio: pip install 'shopml[grpc]' ({exc})"
                ) from None
            self.grpc = await start_grpc(self.plane, self.settings)

    async def shutdown(self) -> None:
        """Stop the gRPC server (running calls finish) and the data plane (polling stops, every logged
        prediction reaches disk)."""
        if self.grpc is not None:
            await self.grpc.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.plane.shutdown()

    async def _sweep(self) -> None:
        """Cancel body reads older than ``body_timeout_s`` (one sweep per half second: a timer per
        request would cost more than the request); the reader answers 408."""
        timeout = self.settings.body_timeout_s
        while True:
            await asyncio.sleep(_SWEEP_S)
            now = time.monotonic()
            for task, since in list(self._reading.items()):
                if now - since > timeout and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()

    # --- HTTP ----------------------------------------------------------------------------------
    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        t0 = time.perf_counter()
        rid = clen = auth = hlen = None
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                rid = v.decode("latin-1")
                if not request_id(rid):
                    rid = None  # replaced by a generated id: it goes back out as a header
            elif k == b"content-length":
                clen = v
            elif k == b"authorization":
                auth = v
            elif k == b"inference-header-content-length":
                hlen = v
        extensions = scope.get("extensions")
        call = _Call(rid, extensions.get(LIVE_REQUESTS) if extensions else None)
        call.header_in = hlen
        plane = self.plane
        ctype = JSON
        path = scope["path"]
        try:
            if path[-8:] == "/predict" and path[:11] == "/v1/models/" and scope["method"] == "POST":
                name = path[11:-8]  # the hot route, without the general router's work
                if not name or "/" in name:
                    raise NotFoundError(f"no route POST {path}")
                call.endpoint = "v1_predict"
                status, body = 200, await self._infer(receive, call, clen, name, None, v2=False)
            else:
                status, body, ctype = 200, *await self._route(scope, receive, call, clen, auth)
        except ShopmlError as exc:
            status, body = exc.status, orjson.dumps(exc.to_dict())
            plane.count_error(exc.kind)
        except _ClientGoneError:
            return
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            status = 500
            body = orjson.dumps({"error": "internal server error (see server log)", "kind": "internal"})
            plane.count_error("internal")
        if call.rid is None:
            call.rid = plane.new_id()
        headers = [
            (b"content-type", ctype),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", call.rid.encode()),
        ]
        if call.header_out is not None and status == 200:
            headers[0] = (b"content-type", OCTETS)
            headers.append((b"inference-header-content-length", str(call.header_out).encode()))
        if status == 408:  # the rest of the body may still come: the connection cannot be reused
            headers.append((b"connection", b"close"))
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:  # the log line and the counts after the answer: off the client's wait
            elapsed = time.perf_counter() - t0
            if call.logged is not None:
                plane.record(call.logged, elapsed)
            plane.observe(call.model, call.version, call.endpoint, status, elapsed)

    async def _body(self, receive: Any, clen: bytes | None) -> bytes:
        limit = self.settings.max_body_bytes
        if clen is not None and clen.isdigit() and int(clen) > limit:
            raise PayloadTooLargeError(
                f"request body of {int(clen)} bytes exceeds the limit of {limit} bytes"
            )
        task = asyncio.current_task()
        if task is None:
            return await self._read(receive, limit)
        self._reading[task] = time.monotonic()
        try:
            return await self._read(receive, limit)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            task.uncancel()
            timeout = self.settings.body_timeout_s
            raise RequestTimeoutError(
                f"request body not received within {timeout:g} s (serve.body_timeout_s)"
            ) from None
        finally:
            del self._reading[task]
            self._expired.discard(task)

    @staticmethod
    async def _read(receive: Any, limit: int) -> bytes:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise _ClientGoneError
        body: bytes = msg.get("body", b"")
        if not msg.get("more_body"):
            if len(body) > limit:
                raise PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes")
            return body
        chunks, size = [body], len(body)
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise _ClientGoneError
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks)

    async def _route(
        self, scope: dict[str, Any], receive: Any, call: _Call, clen: Any, auth: Any
    ) -> tuple[bytes, bytes]:
        method, path = scope["method"], scope["path"]
        parts = path.rstrip("/").split("/")[1:] if path != "/" else []
        n = len(parts)
        if n >= 4 and parts[0] in ("v1", "v2") and parts[1] == "models":
            name = parts[2]
            if parts[0] == "v1" and n == 4 and parts[3] == "predict":
                call.endpoint = "v1_predict"
                self._method(method, "POST", path)
                return await self._infer(receive, call, clen, name, None, v2=False), JSON
            if parts[0] == "v2" and parts[-1] == "infer" and n in (4, 6):
                call.endpoint = "v2_infer"
                version = self._version(parts[4]) if n == 6 and parts[3] == "versions" else None
                if n == 6 and parts[3] != "versions":
                    raise NotFoundError(f"no route {path}")
                self._method(method, "POST", path)
                return await self._infer(receive, call, clen, name, version, v2=True), JSON
        call.endpoint = "meta"
        if method in ("GET", "HEAD"):
            return self._get(parts, path, call)
        if method == "POST" and n == 5 and parts[:3] == ["v2", "repository", "models"]:
            call.endpoint = "admin"
            return await self._admin(parts[3], parts[4], auth, path), JSON
        if method == "POST" and parts == ["v2", "repository", "index"]:
            call.endpoint = "admin"
            self.plane.check_admin(_bearer(auth))
            return orjson.dumps(self.plane.index()), JSON
        raise NotFoundError(f"no route {method} {path}")

    @staticmethod
    def _method(got: str, want: str, path: str) -> None:
        if got != want:
            raise MethodNotAllowedError(f"{path} takes {want}, got {got}")

    @staticmethod
    def _version(text: str) -> int:
        if not text.isdigit() or len(text) > 9:
            raise NotFoundError(f"model version must be a positive integer, got '{text}'")
        return int(text)

    async def _infer(
        self, receive: Any, call: _Call, clen: Any, name: str, version: int | None, v2: bool
    ) -> bytes:
        plane = self.plane
        served = plane.acquire(name, version)
        call.model, call.version = served.name, served.label
        try:
            plane.arriving(served, 1)
            try:
                body = await self._body(receive, clen)
            finally:
                plane.arriving(served, -1)
            body_id: str | None = None
            max_rows = self.settings.max_rows_per_request
            if v2:
                req = decode_infer(body, served.codec, max_rows, served.head.names, call.header_in)
                enc, body_id = req.enc, req.rid
                if call.rid is None and body_id is not None:
                    call.rid = body_id  # checked printable by the decoder
            else:
                enc = decode_v1(body, served.codec, max_rows)
            if call.rid is None:
                call.rid = plane.new_id()
            live = call.live
            pred = await plane.predict(served, enc, call.rid, lone=live is not None and len(live) == 1)
            if v2:
                rid = body_id or call.rid
                out = served.head.encode_v2(name, served.version, rid, pred.scores, req.outputs)
                if req.binary:
                    out, call.header_out = encode_binary(out, req.binary)
            else:
                out = served.head.encode_v1(name, served.version, pred.ids, pred.scores)
            call.logged = pred
            return out
        finally:
            plane.release(served)

    # --- metadata, health, admin ---------------------------------------------------------------
    def _get(self, parts: list[str], path: str, call: _Call) -> tuple[bytes, bytes]:
        plane = self.plane
        n = len(parts)
        if parts == ["metrics"]:
            call.endpoint = "metrics"
            return plane.metrics.render(), CONTENT_TYPE.encode()
        if parts == ["openapi.json"]:
            return self._openapi, JSON
        if parts == ["v2", "health", "live"]:
            call.endpoint = "health"
            return orjson.dumps({"live": True}), JSON
        if parts == ["v2", "health", "ready"]:
            call.endpoint = "health"
            plane.check_ready()
            return orjson.dumps({"ready": True}), JSON
        if parts == ["v2"]:
            return orjson.dumps(plane.server_metadata()), JSON
        if n >= 3 and parts[:2] == ["v2", "models"]:
            version = None
            rest = parts[3:]
            if len(rest) >= 2 and rest[0] == "versions":
                version, rest = self._version(rest[1]), rest[2:]
            if rest == ["ready"]:
                ready = plane.model_ready(parts[2], version)  # 404 for an unknown model
                call.model = parts[2]
                if not ready:  # OIP: the status code is the answer (KServe: 503 when not ready)
                    raise _ModelNotReadyError(parts[2])
                return orjson.dumps({"name": parts[2], "ready": True}), JSON
            if not rest:
                meta = plane.model_metadata(parts[2], version)
                call.model, call.version = meta["name"], meta["versions"][0]
                return orjson.dumps(meta), JSON
        raise NotFoundError(f"no route GET {path}")

    async def _admin(self, name: str, action: str, auth: bytes | None, path: str) -> bytes:
        self.plane.check_admin(_bearer(auth))
        if action == "load":
            return orjson.dumps(await self.plane.load(name))
        if action == "unload":
            return orjson.dumps(self.plane.unload(name))
        raise NotFoundError(f"no route POST {path}")


def _bearer(auth: bytes | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if auth is None or not auth.startswith(b"Bearer "):
        return None
    return auth[7:]
