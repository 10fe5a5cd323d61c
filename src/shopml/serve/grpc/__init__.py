"""The Open Inference Protocol v2 over gRPC (``inference.GRPCInferenceService``), beside the REST app.

:func:`start_grpc` runs a ``grpc.aio`` server on the REST server's event loop over the same
:class:`~shopml.serve.dataplane.DataPlane` (models, batcher, cache, prediction log, metrics): a gRPC
request and an HTTP request can share one micro-batch. It needs ``grpcio`` (``pip install
'shopml[grpc]'``) and is imported only when ``serve.grpc_port`` is set.

``oip_pb2.py`` and ``oip_pb2.pyi`` are generated from ``oip.proto`` (the protocol's messages) with
grpcio-tools 1.64.3, whose protoc writes code for protobuf 5.26.1 and newer (the oldest protobuf
``shopml[grpc]`` admits; newer runtimes read older generated code). From ``src/``::

    pip install grpcio-tools==1.64.3     # in a scratch virtualenv
    python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. shopml/serve/grpc/oip.proto

No service stub is generated: :mod:`shopml.serve.grpc.service` registers the methods under the
protocol's service name itself (see ``oip.proto`` for why the messages have their own package).
"""

from shopml.serve.grpc.service import SERVICE, GrpcServer, InferenceServicer, start_grpc

__all__ = ["SERVICE", "GrpcServer", "InferenceServicer", "start_grpc"]
