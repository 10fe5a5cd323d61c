"""The image codec: product photos in, the CNN's ``[N, 1, 28, 28]`` pixel tensor out, and per photo the
top-3 categories and whether it may be assigned without a person (``auto_assign``).

Chosen for bundles whose ``bundle.json`` says ``input_type: "image"`` (see
:func:`shopml.serve.codecs.codec_for`). ``/v1`` takes ``{"instances": [{"image": {"b64": "<base64 PNG or
JPEG>"}, "image_id": "p-1"}]}`` (``"image"`` may also be the bare base64 string; ``image_id`` is an
optional business key, logged so that review outcomes can label the photo later). A photo is decoded
with Pillow (:mod:`shopml.serve.photo`), turned grey, fitted into 28×28 and scaled to [0, 1]. OIP v2
takes an FP32 input ``image`` of shape ``[N, 1, 28, 28]`` (pixels in [0, 1], JSON or binary tensor data,
REST or gRPC) and optionally a BYTES ``image_id`` ``[N]``.

The answer per photo: ``label``, the ``top`` 3 categories with their probabilities and ``auto_assign``
(the top probability reaches the bundle's ``review_threshold``, the threshold that reached the target
precision on validation; a bundle whose model never reached it sends every photo to review). The
prediction log gets, besides the multiclass columns, the photo's ``brightness``, ``contrast`` and
``sharpness`` (:func:`shopml.images.stats.image_stats`) and its ``embedding`` (the graph's penultimate
layer, list of float32), the columns drift on photos is measured from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import orjson

from shopml.errors import SchemaError
from shopml.images.stats import STATS, image_stats
from shopml.kinds import OutputHead
from shopml.kinds.multiclass import MulticlassHead
from shopml.registry.bundle import ModelBundle
from shopml.schema.checks import show
from shopml.serve.batch import Encoded
from shopml.serve.codecs import DEFAULT_MAX_K
from shopml.serve.photo import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, decode_photo

__all__ = ["ImageBatch", "ImageCodec", "ImageHead", "ImageOutputs"]

FIELD = "image"
IMAGE_ID = "image_id"
TOP = 3
#: The prediction-log column of the embedding (what drift on photos reads).
EMBEDDING_COLUMN = "embedding"


class ImageBatch(Encoded):
    """Validated photos: pixels ``[n, 1, H, W]`` float32 in [0, 1] and the optional image ids."""

    __slots__ = ("pixels",)

    def __init__(self, codec: ImageCodec, pixels: np.ndarray, ids: list[Any] | None = None) -> None:
        super().__init__(len(pixels), codec, logged={}, ids=ids)  # type: ignore[arg-type]
        self.pixels = pixels

    def cache_key(self) -> tuple[Any, ...]:
        """The pixels' bytes (a photo sent as PNG and as a tensor share their key)."""
        return (self.pixels.tobytes(),)

    def finish(self, scores: np.ndarray) -> ImageOutputs:
        """The model's outputs for this batch: probabilities ``[n, C]`` then the embedding columns."""
        c = self.codec.n_classes  # type: ignore[attr-defined]
        emb = scores[:, c:] if scores.shape[1] > c else None
        return ImageOutputs(scores[:, :c], emb, self.pixels)


class ImageOutputs:
    """One batch's probabilities, embeddings (None: the graph has none) and pixels (for the log)."""

    __slots__ = ("embedding", "pixels", "proba")

    def __init__(self, proba: np.ndarray, embedding: np.ndarray | None, pixels: np.ndarray) -> None:
        self.proba, self.embedding, self.pixels = proba, embedding, pixels


class ImageHead(OutputHead):
    """The multiclass head answering per photo the top categories and ``auto_assign``; logs the photo
    statistics and the embedding too. OIP v2 answers are the multiclass kind's own."""

    log_types: ClassVar[dict[str, str]] = MulticlassHead.log_types
    log_sources: ClassVar[dict[str, str]] = MulticlassHead.log_sources

    def __init__(self, base: MulticlassHead, threshold: float | None) -> None:
        self.base = base
        self.names = base.names
        self.classes: list[str] = list(base.classes)
        self.threshold = threshold  # None: never auto-assign

    def auto_assign(self, proba: np.ndarray) -> np.ndarray:
        """Whether each photo's top probability reaches the review threshold."""
        if self.threshold is None:
            return np.zeros(len(proba), dtype=bool)
        return np.asarray(proba.max(axis=1) >= self.threshold)

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: Any) -> bytes:
        """Per photo ``label``, ``top`` (category and probability, best first) and ``auto_assign``."""
        proba = np.asarray(out.proba, dtype=np.float64)
        k = min(TOP, proba.shape[1])
        top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        auto = self.auto_assign(proba).tolist()
        classes = self.classes
        preds = []
        for i, rid in enumerate(request_ids):
            row = top[i].tolist()
            preds.append(
                {
                    "request_id": rid,
                    "label": classes[row[0]],
                    "top": [{"category": classes[j], "probability": float(proba[i, j])} for j in row],
                    "auto_assign": auto[i],
                    "model_version": version,
                }
            )
        doc = {"model": model, "model_version": version, "review_threshold": self.threshold}
        return orjson.dumps({**doc, "predictions": preds})

    def encode_v2(self, model: str, version: int, rid: str, out: Any, outputs: list[str]) -> bytes:
        """``probabilities`` FP32 [N, C] and ``label`` BYTES [N], as every multiclass model."""
        return self.base.encode_v2(model, version, rid, out.proba, outputs)

    def columns(self, out: Any) -> dict[str, np.ndarray]:
        """The multiclass columns."""
        return self.base.columns(out.proba)

    def log_columns(self, out: Any) -> dict[str, Any]:
        """The multiclass log columns, the photo statistics and the embedding (lists of float32)."""
        cols: dict[str, Any] = dict(self.base.log_columns(out.proba))
        cols.update(image_stats(out.pixels))
        if out.embedding is not None:
            cols[EMBEDDING_COLUMN] = np.asarray(out.embedding, dtype=np.float32)
        return cols

    def score(self, out: Any) -> np.ndarray:
        """The probability of the predicted category."""
        return self.base.score(out.proba)

    def metadata(self) -> dict[str, Any]:
        """The class names and the review threshold."""
        return {**self.base.metadata(), "review_threshold": self.threshold}


def _review_threshold(meta: Mapping[str, Any]) -> float | None:
    """The served auto-assign threshold; None (review everything) when the model never reached the
    precision target or the bundle holds no finite threshold."""
    review = meta.get("review")
    if isinstance(review, dict) and review.get("met") is False:
        return None
    t = meta.get("review_threshold")
    if isinstance(t, int | float) and math.isfinite(t) and 0.0 <= t <= 1.0:
        return float(t)
    return None


class ImageCodec:
    """Compiled photo checks for one image bundle: the image shape, the classes, the review rule."""

    layout = "image"
    v1_keys = frozenset({"instances"})
    #: Prediction-log columns beyond the kind's: the photo statistics and the embedding.
    log_types: Mapping[str, str] = {
        **dict.fromkeys(STATS, "float64"),
        EMBEDDING_COLUMN: "list<float32>",
    }
    matrix: frozenset[str] = frozenset()

    def __init__(self, bundle: ModelBundle, max_k: int = DEFAULT_MAX_K) -> None:
        """``max_k`` is accepted for the common codec signature; photos take no K."""
        meta = bundle.meta.model_dump(by_alias=True)
        shape = meta.get("image_shape") or list(meta.get("input_shape") or [-1, 1, 28, 28])[1:]
        if len(shape) != 3 or shape[0] != 1 or not all(isinstance(d, int) and d > 0 for d in shape):
            raise SchemaError(f"model '{bundle.name}': image_shape must be [1, H, W], got {show(shape)}")
        self.shape: tuple[int, int, int] = (int(shape[0]), int(shape[1]), int(shape[2]))
        self.classes = [str(c) for c in meta.get("classes") or ()]
        self.n_classes = len(self.classes)
        self.threshold = _review_threshold(meta)
        emb = meta.get("embedding_output")
        self.extra_outputs: tuple[str, ...] = (str(emb),) if emb else ()
        self.input_name = str((meta.get("inputs") or [FIELD])[0])
        self.names = [FIELD]
        self.kinds = {FIELD: "image"}
        self.log_kinds: dict[str, str] = {}
        #: Dense inputs and their shape after N: checked and decoded as arrays (see protocol.check_tensor).
        self.tensors: Mapping[str, tuple[int, ...]] = {FIELD: self.shape}
        self.id_column: str | None = meta.get("id_column") or IMAGE_ID
        self.time_column: str | None = None
        self.extras = frozenset({self.id_column})
        self.allowed = frozenset(self.names) | self.extras

    def wrap_head(self, head: Any) -> ImageHead:
        """The kind's multiclass head, answering per photo the top categories and ``auto_assign``."""
        if not isinstance(head, MulticlassHead):
            raise SchemaError(f"an image model must be of the multiclass kind, got {type(head).__name__}")
        return ImageHead(head, self.threshold)

    # --- requests -------------------------------------------------------------------------------
    def encode_rows(self, rows: list[Any], params: Any = None) -> ImageBatch:
        """``/v1`` instances ``{"image": {"b64": ...}}`` (or a bare base64 string) → decoded photos."""
        if not rows:
            raise SchemaError("'instances' is empty: send at least one photo")
        _, h, w = self.shape
        pixels = np.empty((len(rows), 1, h, w), dtype=np.float32)
        ids: list[Any] = []
        for i, row in enumerate(rows):
            if type(row) is not dict or FIELD not in row or not self.allowed.issuperset(row):
                extra = sorted(k for k in row if k not in self.allowed) if type(row) is dict else []
                what = [] if type(row) is dict and FIELD in row else [f"no field 'image' in {show(row)}"]
                what += [f"unexpected fields {extra}"] if extra else []
                raise SchemaError(
                    f"instance {i}: {'; '.join(what)} (expected 'image': {{\"b64\": base64 PNG or JPEG}} or"
                    f" a base64 string, optional '{self.id_column}')"
                )
            rid = row.get(self.id_column)
            if rid is not None and type(rid) is not str:
                raise SchemaError(f"instance {i}: field '{self.id_column}' must be a string, got {show(rid)}")
            pixels[i, 0] = decode_photo(_b64(row[FIELD], i), i, (h, w))
            ids.append(rid)
        return ImageBatch(self, pixels, ids if any(v is not None for v in ids) else None)

    def encode_columns(self, n: int, columns: dict[str, Any], params: Any = None) -> ImageBatch:
        """OIP v2: the ``image`` tensor ``[n, 1, H, W]`` (already shape- and type-checked) in [0, 1]."""
        extra = sorted(k for k in columns if k not in self.allowed)
        if extra or FIELD not in columns:
            raise SchemaError(
                f"inputs must be 'image' (FP32 [N, {', '.join(map(str, self.shape))}], pixels in [0, 1]) and"
                f" optionally '{self.id_column}' (BYTES [N]), got {sorted(columns)}"
            )
        pixels = np.ascontiguousarray(columns[FIELD], dtype=np.float32)
        ok = (pixels >= 0.0) & (pixels <= 1.0)  # NaN fails both
        if not ok.all():
            i = int(np.flatnonzero(~ok.reshape(n, -1).all(axis=1))[0])
            row = pixels[i]
            raise SchemaError(
                f"input 'image': instance {i} holds pixels outside [0, 1] (min {float(np.min(row)):g},"
                f" max {float(np.max(row)):g}; scale 0–255 pixels by 1/255)"
            )
        ids = columns.get(self.id_column) if self.id_column else None
        return ImageBatch(self, pixels, list(ids) if ids is not None else None)

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """No tabular features: the photo travels in the log's own columns."""
        return {}

    # --- the model ------------------------------------------------------------------------------
    @staticmethod
    def concat(parts: list[Any]) -> np.ndarray:
        """The pixels of several requests as one ``[N, 1, H, W]`` block."""
        if len(parts) == 1:
            return parts[0].pixels  # type: ignore[no-any-return]
        return np.concatenate([p.pixels for p in parts])

    def feeds(self, block: np.ndarray) -> dict[str, np.ndarray]:
        """The ONNX feed ``image``."""
        return {self.input_name: block}

    def ort_types(self) -> dict[str, str]:
        """The ONNX input the graph must have."""
        return {self.input_name: "tensor(float)"}

    def warm_feeds(self, n: int) -> dict[str, np.ndarray]:
        """A synthetic batch of ``n`` grey photos."""
        return self.feeds(np.full((n, *self.shape), 0.5, dtype=np.float32))

    def input_metadata(self) -> list[dict[str, Any]]:
        """The OIP model-metadata inputs."""
        return [
            {"name": FIELD, "datatype": "FP32", "shape": [-1, *self.shape]},
            {"name": self.id_column, "datatype": "BYTES", "shape": [-1], "optional": True},
        ]

    def parameters_metadata(self) -> dict[str, Any]:
        """How to send a photo, its limits and the review rule."""
        return {
            "input_layout": (
                f"image: FP32 [N, {', '.join(map(str, self.shape))}], grey pixels in [0, 1], row-major;"
                " /v1 takes base64 PNG or JPEG photos"
            ),
            "max_image_bytes": MAX_IMAGE_BYTES,
            "max_image_pixels": MAX_IMAGE_PIXELS,
            "top_k": min(TOP, self.n_classes),
            "auto_assign": self.threshold is not None,
        }


def _b64(value: Any, i: int) -> Any:
    """The base64 text of an instance's ``image`` field (``{"b64": ...}`` or the bare string)."""
    if type(value) is dict:
        if set(value) != {"b64"}:
            raise SchemaError(
                f"instance {i}: field 'image' must be {{\"b64\": base64 text}} or a base64 string,"
                f" got an object with {sorted(value)}"
            )
        value = value["b64"]
    if type(value) is not str:
        raise SchemaError(f"instance {i}: field 'image' must hold base64 text, got {show(value)}")
    return value
