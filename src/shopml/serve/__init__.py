"""Low-latency serving: one data plane (ONNX Runtime, micro-batching, cache, prediction log) under an
OIP v2 + /v1 raw-ASGI shell."""

from shopml.serve.app import ServeApp
from shopml.serve.batcher import MicroBatcher
from shopml.serve.cache import ScoreCache
from shopml.serve.codec import Encoded, InputCodec
from shopml.serve.dataplane import DataPlane, Prediction
from shopml.serve.metrics import ServeMetrics
from shopml.serve.predictor import OnnxPredictor
from shopml.serve.protocol import BadRequestError
from shopml.serve.repository import ModelRepository, ModelSource, ServedModel
from shopml.serve.server import build_app, create_app, run

__all__ = [
    "BadRequestError",
    "DataPlane",
    "Encoded",
    "InputCodec",
    "MicroBatcher",
    "ModelRepository",
    "ModelSource",
    "OnnxPredictor",
    "Prediction",
    "ScoreCache",
    "ServeApp",
    "ServeMetrics",
    "ServedModel",
    "build_app",
    "create_app",
    "run",
]
