"""A minimal OIP v2 gRPC client over shopml's own messages (for tests, benchmarks and scripts; any OIP
client, such as ``tritonclient.grpc``, works as well).

``call(method, request)`` sends one unary call to ``inference.GRPCInferenceService/<method>``, e.g.
``client.call("ModelInfer", oip_pb2.ModelInferRequest(...))``; the asyncio twin is :class:`AsyncOipClient`.
"""

from __future__ import annotations

from typing import Any

import grpc

from shopml.serve.grpc import oip_pb2 as pb
from shopml.serve.grpc.service import SERVICE

__all__ = ["RESPONSES", "AsyncOipClient", "OipClient"]

#: The response message of each method.
RESPONSES: dict[str, Any] = {
    "ServerLive": pb.ServerLiveResponse,
    "ServerReady": pb.ServerReadyResponse,
    "ModelReady": pb.ModelReadyResponse,
    "ServerMetadata": pb.ServerMetadataResponse,
    "ModelMetadata": pb.ModelMetadataResponse,
    "ModelInfer": pb.ModelInferResponse,
    "RepositoryModelLoad": pb.RepositoryModelLoadResponse,
    "RepositoryModelUnload": pb.RepositoryModelUnloadResponse,
}


def _serialize(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data


class OipClient:
    """A blocking client on one channel to ``target`` (``host:port``)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self._calls = {
            m: self.channel.unary_unary(
                f"/{SERVICE}/{m}", request_serializer=_serialize, response_deserializer=r.FromString
            )
            for m, r in RESPONSES.items()
        }

    def call(self, method: str, request: Any, *, metadata: Any = None, timeout: float = 30.0) -> Any:
        """One call; a failed one raises ``grpc.RpcError`` (``.code()``, ``.details()``)."""
        return self._calls[method](request, metadata=metadata, timeout=timeout)

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()


class AsyncOipClient:
    """The same on a ``grpc.aio`` channel (create it inside the event loop that uses it)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self._calls = {
            m: self.channel.unary_unary(
                f"/{SERVICE}/{m}", request_serializer=_serialize, response_deserializer=r.FromString
            )
            for m, r in RESPONSES.items()
        }

    async def call(self, method: str, request: Any, *, metadata: Any = None, timeout: float = 30.0) -> Any:
        """One call; a failed one raises ``grpc.aio.AioRpcError``."""
        return await self._calls[method](request, metadata=metadata, timeout=timeout)

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()
