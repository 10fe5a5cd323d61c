"""``inference.GRPCInferenceService`` on ``grpc.aio``: a thin shell over the data plane, like the REST app.

Each method parses its message, calls the :class:`~shopml.serve.dataplane.DataPlane`, and maps a
:class:`~shopml.errors.ShopmlError` to a gRPC status with the REST answer's message: 400/422
``INVALID_ARGUMENT``, 401 ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``, 404 ``NOT_FOUND``, 413
``RESOURCE_EXHAUSTED``, 503 ``UNAVAILABLE``; anything else is logged and answered ``INTERNAL``. Every call
is counted in the request metrics with ``protocol="grpc"`` (and its HTTP-equivalent status), and an
answered inference goes to the prediction log after the answer, as over REST. The repository calls take
the admin token as the metadata ``authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from shopml.config.settings import ServeSettings
from shopml.errors import ConfigError, NotFoundError, NotReadyError, ShopmlError
from shopml.serve.dataplane import DataPlane, Prediction
from shopml.serve.grpc import oip_pb2 as pb
from shopml.serve.grpc.wire import decode_request, encode_response, metadata_response

__all__ = ["SERVICE", "GrpcServer", "InferenceServicer", "start_grpc"]

log = logging.getLogger(__name__)
SERVICE = "inference.GRPCInferenceService"
_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


class _Call:
    __slots__ = ("logged", "model", "version")

    def __init__(self) -> None:
        self.model = self.version = ""
        self.logged: Prediction | None = None


def _version(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise NotFoundError(f"model version must be a positive integer, got '{text}'")
    return int(text)


def _token(context: Any) -> bytes | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            text = value if isinstance(value, str) else value.decode("latin-1")
            return text[7:].encode() if text.startswith("Bearer ") else None
    return None


class InferenceServicer:
    """The service's methods over one :class:`DataPlane`."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self.inflight = 0  # inference calls being answered (one alone is scored inline)

    async def _run(self, endpoint: str, context: Any, handle: Callable[[_Call], Awaitable[Any]]) -> Any:
        t0 = time.perf_counter()
        call, plane = _Call(), self.plane
        try:
            answer = await handle(call)
        except ShopmlError as exc:
            plane.count_error(exc.kind)
            plane.observe(call.model, call.version, endpoint, exc.status, time.perf_counter() - t0, "grpc")
            await context.abort(_CODES.get(exc.status, grpc.StatusCode.INTERNAL), exc.message)
        except Exception:
            log.exception("internal error on gRPC %s", endpoint)
            plane.count_error("internal")
            plane.observe(call.model, call.version, endpoint, 500, time.perf_counter() - t0, "grpc")
            await context.abort(grpc.StatusCode.INTERNAL, "internal server error (see server log)")
        elapsed = time.perf_counter() - t0
        if call.logged is not None:  # after the answer went out, as over REST
            asyncio.get_running_loop().call_soon(plane.record, call.logged, elapsed)
        plane.observe(call.model, call.version, endpoint, 200, elapsed, "grpc")
        return answer

    # --- health and metadata -------------------------------------------------------------------
    async def server_live(self, request: Any, context: Any) -> Any:
        """Always live while the process answers."""

        async def handle(call: _Call) -> Any:
            return pb.ServerLiveResponse(live=True)

        return await self._run("health", context, handle)

    async def server_ready(self, request: Any, context: Any) -> Any:
        """Ready as ``GET /v2/health/ready`` is (every champion loaded, the log writable)."""

        async def handle(call: _Call) -> Any:
            try:
                self.plane.check_ready()
            except NotReadyError:
                return pb.ServerReadyResponse(ready=False)
            return pb.ServerReadyResponse(ready=True)

        return await self._run("health", context, handle)

    async def model_ready(self, request: Any, context: Any) -> Any:
        """Whether the model (at the version) serves; NOT_FOUND for a model this server does not know."""

        async def handle(call: _Call) -> Any:
            ready = self.plane.model_ready(request.name, _version(request.version))
            call.model = request.name  # known (a label value only once the model is known)
            return pb.ModelReadyResponse(ready=ready)

        return await self._run("health", context, handle)

    async def server_metadata(self, request: Any, context: Any) -> Any:
        """Name, version and protocol extensions."""

        async def handle(call: _Call) -> Any:
            return pb.ServerMetadataResponse(**self.plane.server_metadata())

        return await self._run("meta", context, handle)

    async def model_metadata(self, request: Any, context: Any) -> Any:
        """Inputs and outputs with datatypes and shapes, as ``GET /v2/models/{name}``."""

        async def handle(call: _Call) -> Any:
            meta = self.plane.model_metadata(request.name, _version(request.version))
            call.model, call.version = meta["name"], meta["versions"][0]
            return metadata_response(meta)

        return await self._run("meta", context, handle)

    # --- inference -----------------------------------------------------------------------------
    async def model_infer(self, request: Any, context: Any) -> Any:
        """Score the request's rows with the same checks, batcher, cache and log as REST."""

        async def handle(call: _Call) -> Any:
            plane = self.plane
            served = plane.acquire(request.model_name, _version(request.model_version))
            call.model, call.version = served.name, served.label
            self.inflight += 1
            try:
                req = decode_request(
                    request, served.codec, plane.settings.max_rows_per_request, served.head.names
                )
                rid = req.rid or plane.new_id()
                pred = await plane.predict(served, req.enc, rid, lone=self.inflight == 1)
                answer = served.head.encode_v2(served.name, served.version, rid, pred.scores, req.outputs)
                call.logged = pred
                return encode_response(answer)
            finally:
                self.inflight -= 1
                plane.release(served)

        return await self._run("v2_infer", context, handle)

    # --- repository ----------------------------------------------------------------------------
    async def repository_model_load(self, request: Any, context: Any) -> Any:
        """Load (or reload) a model's champion on every worker (admin token)."""

        async def handle(call: _Call) -> Any:
            self.plane.check_admin(_token(context))
            name = request.triton_model_name or request.model_name
            await self.plane.load(name)
            call.model = name
            return pb.RepositoryModelLoadResponse(model_name=name, isLoaded=True)

        return await self._run("admin", context, handle)

    async def repository_model_unload(self, request: Any, context: Any) -> Any:
        """Stop serving a model on every worker until it is loaded again (admin token)."""

        async def handle(call: _Call) -> Any:
            self.plane.check_admin(_token(context))
            name = request.triton_model_name or request.model_name
            self.plane.unload(name)
            call.model = name
            return pb.RepositoryModelUnloadResponse(model_name=name, isUnloaded=True)

        return await self._run("admin", context, handle)

    def handler(self) -> grpc.GenericRpcHandler:
        """The method table under :data:`SERVICE`."""
        methods: dict[str, tuple[Any, Any]] = {
            "ServerLive": (self.server_live, pb.ServerLiveRequest),
            "ServerReady": (self.server_ready, pb.ServerReadyRequest),
            "ModelReady": (self.model_ready, pb.ModelReadyRequest),
            "ServerMetadata": (self.server_metadata, pb.ServerMetadataRequest),
            "ModelMetadata": (self.model_metadata, pb.ModelMetadataRequest),
            "ModelInfer": (self.model_infer, pb.ModelInferRequest),
            "RepositoryModelLoad": (self.repository_model_load, pb.RepositoryModelLoadRequest),
            "RepositoryModelUnload": (self.repository_model_unload, pb.RepositoryModelUnloadRequest),
        }
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                name: grpc.unary_unary_rpc_method_handler(
                    fn, request_deserializer=msg.FromString, response_serializer=_serialize
                )
                for name, (fn, msg) in methods.items()
            },
        )


def _serialize(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data


class GrpcServer:
    """A running gRPC server and the port it listens on."""

    def __init__(self, server: Any, port: int) -> None:
        self.server, self.port = server, port

    async def stop(self, grace: float = 5.0) -> None:
        """Refuse new calls, let running ones finish for up to ``grace`` seconds."""
        await self.server.stop(grace)


async def start_grpc(plane: DataPlane, settings: ServeSettings, host: str | None = None) -> GrpcServer:
    """Serve ``plane`` over gRPC on ``host`` (default ``serve.host``) and ``serve.grpc_port``, on the
    running event loop. Messages larger than ``serve.max_body_bytes`` are refused (RESOURCE_EXHAUSTED);
    at most ``serve.max_connections`` calls run at once. Several workers share the port
    (``SO_REUSEPORT``)."""
    host = host or settings.host
    port = settings.grpc_port or 0
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", settings.max_body_bytes),
            ("grpc.so_reuseport", 1),
        ],
        maximum_concurrent_rpcs=settings.max_connections,
    )
    server.add_generic_rpc_handlers((InferenceServicer(plane).handler(),))
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        bound, reason = 0, str(exc)
    else:
        reason = "the address is taken or not local"
    if not bound:
        raise ConfigError(f"serve.grpc_port (--grpc-port): cannot listen on {address}: {reason}")
    await server.start()
    return GrpcServer(server, bound)
