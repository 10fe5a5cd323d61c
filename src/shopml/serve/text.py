"""The text codec: product titles, reviews or search queries in, token matrices out, tokenised in the server.

Chosen for bundles with ``input_type: "text"`` (see :func:`shopml.serve.codecs.codec_for`). ``/v1``
takes ``{"instances": [{"text": "..."}]}`` and answers per instance the ``label`` and the three most
probable classes; OIP v2 takes a BYTES input ``text`` of shape ``[N]`` or ``[N, 1]`` (JSON or binary
tensor data, REST or gRPC) and answers the multiclass kind's ``probabilities`` and ``label``.

Texts are tokenised with the ``tokenizers`` library from the bundle's ``tokenizer.json``: cut at
``max_length`` tokens, padded to the longest text of the micro-batch. Every text must hold something
besides whitespace and at most ``max_chars`` characters; errors name the instance and the bound. Beside
the kind's columns the prediction log records the ``text``, its ``text_length`` (characters), its
``unknown_token_rate`` (share of ``[UNK]`` among the text's tokens) and the pooled ``embedding`` (the
graph's ``embedding`` output, float32 values) that text drift compares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import orjson

from shopml.errors import ModelError, NotReadyError, SchemaError
from shopml.kinds import OutputHead
from shopml.registry.bundle import ModelBundle
from shopml.schema.checks import show
from shopml.serve.batch import Encoded
from shopml.serve.codecs import DEFAULT_MAX_K

__all__ = ["TextBatch", "TextCodec", "TextHead", "TextOut"]

FIELD = "text"
INPUTS = ("input_ids", "attention_mask")
TOP = 3
DEFAULT_MAX_LENGTH = 64
DEFAULT_MAX_CHARS = 2000
_Feeds = tuple[np.ndarray, np.ndarray]


class TextOut:
    """One answered batch: probabilities [n, C], embeddings [n, H] and the per-text log values."""

    __slots__ = ("embedding", "probabilities", "text_length", "texts", "unknown_rate")

    def __init__(self, probabilities: np.ndarray, embedding: np.ndarray, batch: TextBatch) -> None:
        self.probabilities, self.embedding = probabilities, embedding
        self.texts, self.text_length, self.unknown_rate = batch.texts, batch.chars, batch.unknown_rate

    def __len__(self) -> int:
        return len(self.probabilities)


class TextBatch(Encoded):
    """Validated, tokenised texts."""

    __slots__ = ("chars", "mask", "texts", "tokens", "unknown_rate")

    def __init__(self, codec: TextCodec, texts: list[str], ids: list[Any] | None = None) -> None:
        super().__init__(len(texts), codec, logged={}, ids=ids)  # type: ignore[arg-type]
        tok = codec.tokenizer
        encs = [tok.encode(texts[0])] if len(texts) == 1 else tok.encode_batch(texts)  # one: ~20 µs less
        width = max(len(e.ids) for e in encs)
        self.tokens = np.zeros((self.n, width), dtype=np.int64)
        self.mask = np.zeros_like(self.tokens)
        rates = np.zeros(self.n, dtype=np.float64)
        unk = codec.unk_id
        for i, e in enumerate(encs):
            row = e.ids
            self.tokens[i, : len(row)] = row
            self.mask[i, : len(row)] = 1
            words = len(row) - sum(e.special_tokens_mask)
            rates[i] = row.count(unk) / words if words else 0.0
        self.texts, self.unknown_rate = texts, rates
        self.chars = np.asarray([len(t) for t in texts], dtype=np.float64)

    def cache_key(self) -> tuple[Any, ...]:
        """The texts as sent."""
        return tuple(self.texts)

    def finish(self, scores: np.ndarray) -> TextOut:
        """The model's [n, C + H] block (probabilities, then the embedding) → :class:`TextOut`."""
        c = self.codec.n_classes  # type: ignore[attr-defined]
        return TextOut(scores[:, :c], scores[:, c:], self)


class TextHead(OutputHead):
    """The multiclass head over :class:`TextOut`: /v1 answers the three most probable classes; the log
    adds the text, its length, its unknown-token rate and its embedding."""

    extra_log: ClassVar[tuple[str, ...]] = ("text", "text_length", "unknown_token_rate", "embedding")

    def __init__(self, inner: OutputHead) -> None:
        self.inner = inner
        self.names = inner.names
        self.classes: list[str] = list(getattr(inner, "classes", []))

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: TextOut) -> bytes:  # type: ignore[override]
        """Per instance ``label`` and ``probabilities`` of the three most probable classes (best first)."""
        p = out.probabilities
        top = np.argsort(-p, axis=1, kind="stable")[:, :TOP]
        names = self.classes
        preds = [
            {
                "request_id": rid,
                "label": names[int(t[0])],
                "probabilities": {names[int(j)]: float(row[j]) for j in t},
                "model_version": version,
            }
            for rid, t, row in zip(request_ids, top, p, strict=True)
        ]
        return orjson.dumps({"model": model, "model_version": version, "predictions": preds})

    def encode_v2(self, model: str, version: int, rid: str, out: TextOut, outputs: list[str]) -> bytes:  # type: ignore[override]
        """The multiclass kind's ``probabilities`` [N, C] and ``label`` [N]."""
        return self.inner.encode_v2(model, version, rid, out.probabilities, outputs)

    def columns(self, out: TextOut) -> dict[str, np.ndarray]:  # type: ignore[override]
        """The multiclass kind's columns."""
        return self.inner.columns(out.probabilities)

    def log_columns(self, out: TextOut) -> dict[str, Any]:  # type: ignore[override]
        """The kind's log columns, then the text's own."""
        cols: dict[str, Any] = dict(self.inner.log_columns(out.probabilities))
        cols["text"] = np.asarray(out.texts, dtype=object)
        cols["text_length"] = out.text_length
        cols["unknown_token_rate"] = out.unknown_rate
        cols["embedding"] = out.embedding.astype(np.float32)
        return cols

    def score(self, out: TextOut) -> np.ndarray:  # type: ignore[override]
        """The probability of the predicted label."""
        return self.inner.score(out.probabilities)

    def metadata(self) -> dict[str, Any]:
        """The class names."""
        return self.inner.metadata()


class TextCodec:
    """Compiled text checks and the tokenizer of one text bundle."""

    layout = "text"
    v1_keys = frozenset({"instances"})
    #: Prediction-log columns beyond the kind's.
    log_types: Mapping[str, str] = {
        "text": "string",
        "text_length": "float64",
        "unknown_token_rate": "float64",
        "embedding": "list<float32>",
    }

    def __init__(self, bundle: ModelBundle, max_k: int = DEFAULT_MAX_K) -> None:
        """``max_k`` is accepted for the common codec signature; a text model takes no K."""
        from shopml.kinds.multiclass import classes_of
        from shopml.text.export import load_tokenizer

        meta = bundle.meta.model_dump(by_alias=True)
        self.classes = classes_of(meta)
        self.n_classes = len(self.classes)
        self.max_length = int(meta.get("max_length") or DEFAULT_MAX_LENGTH)
        self.max_chars = int(meta.get("max_chars") or DEFAULT_MAX_CHARS)
        self.quantized = bool(meta.get("quantized", False))
        self.tokenizer = load_tokenizer(bundle.path / str(meta.get("tokenizer") or "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        unk = getattr(self.tokenizer.model, "unk_token", None) or "[UNK]"
        self.unk_id = self.tokenizer.token_to_id(unk)
        self.input_names = list(bundle.meta.inputs) or list(INPUTS)
        self.names = [FIELD]
        self.kinds = {FIELD: "text"}
        self.log_kinds: dict[str, str] = {}
        self.matrix: frozenset[str] = frozenset()
        self.id_column: str | None = bundle.meta.id_column
        self.time_column: str | None = None
        self.extras: frozenset[str] = frozenset({self.id_column} if self.id_column else ())
        self.allowed = frozenset(self.names) | self.extras

    # --- requests -------------------------------------------------------------------------------
    def encode_rows(self, rows: list[Any], params: Any = None) -> TextBatch:
        """``/v1`` instances ``{"text": "..."}`` → a validated, tokenised batch."""
        if not rows:
            raise SchemaError("'instances' is empty: send at least one text")
        texts: list[Any] = []
        for i, row in enumerate(rows):
            if type(row) is not dict or FIELD not in row or not self.allowed.issuperset(row):
                extra = sorted(k for k in row if k not in self.allowed) if type(row) is dict else []
                what = f"unexpected fields {extra}" if extra else f"got {show(row)}"
                raise SchemaError(f"instance {i} must be an object with a field 'text' (a string): {what}")
            texts.append(row[FIELD])
        ids = [row.get(self.id_column) for row in rows] if self.id_column else None
        return self._batch(texts, ids)

    def encode_columns(self, n: int, columns: dict[str, list[Any]], params: Any = None) -> TextBatch:
        """OIP v2: the ``text`` input, one string per row."""
        extra = sorted(k for k in columns if k not in self.allowed)
        if extra or FIELD not in columns:
            raise SchemaError(f"inputs must be 'text' (BYTES [N] or [N, 1]), got {sorted(columns)}")
        return self._batch(columns[FIELD], columns.get(self.id_column) if self.id_column else None)

    def _batch(self, texts: list[Any], ids: list[Any] | None) -> TextBatch:
        limit = self.max_chars
        for i, t in enumerate(texts):
            if type(t) is not str:
                raise SchemaError(f"instance {i}: field 'text' must be a string, got {show(t)}")
            if not t.strip():
                raise SchemaError(
                    f"instance {i}: field 'text' is empty or only whitespace; send 1 to {limit} characters"
                )
            if len(t) > limit:
                raise SchemaError(
                    f"instance {i}: field 'text' has {len(t)} characters, more than the maximum of {limit}"
                    " (bundle max_chars)"
                )
        if ids is not None:
            bad = next((i for i, v in enumerate(ids) if v is not None and type(v) is not str), None)
            if bad is not None:
                raise SchemaError(
                    f"instance {bad}: field '{self.id_column}' must be a string, got {show(ids[bad])}"
                )
        return TextBatch(self, texts, ids)

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """No tabular features: the text travels in the log's own columns."""
        return {}

    # --- the model ------------------------------------------------------------------------------
    @staticmethod
    def concat(parts: list[Any]) -> _Feeds:
        """The micro-batch of several requests: their token matrices, padded to the longest text."""
        if len(parts) == 1:
            return parts[0].tokens, parts[0].mask
        width = max(p.tokens.shape[1] for p in parts)
        ids = np.zeros((sum(p.n for p in parts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        at = 0
        for p in parts:
            ids[at : at + p.n, : p.tokens.shape[1]] = p.tokens
            mask[at : at + p.n, : p.mask.shape[1]] = p.mask
            at += p.n
        return ids, mask

    def feeds(self, block: _Feeds) -> dict[str, np.ndarray]:
        """ONNX feeds ``input_ids`` and ``attention_mask`` [N, L]."""
        return dict(zip(self.input_names, block, strict=True))

    def runner(self, predictor: Any) -> Callable[[_Feeds], np.ndarray]:
        """The micro-batcher's model call: probabilities and embeddings as one [N, C + H] block (the
        served output alone would lose the embedding the log records)."""
        session = predictor._session  # the loaded ONNX Runtime session of this version
        names = ["probabilities", "embedding"]
        model = f"model '{predictor.bundle.name}' version {predictor.bundle.version}"

        def run(block: _Feeds) -> np.ndarray:
            if not predictor.ready:
                raise NotReadyError(f"{model} is not loaded")
            try:
                p, e = session.run(names, self.feeds(block))
            except Exception as exc:  # ORT raises its own exception types
                raise ModelError(f"{model} failed to predict: {exc}") from exc
            return np.concatenate([p, e], axis=1)

        return run

    def wrap_head(self, head: OutputHead) -> TextHead:
        """The kind's head over this codec's answers."""
        return TextHead(head)

    def ort_types(self) -> dict[str, str]:
        """The ONNX inputs the graph must have."""
        return dict.fromkeys(self.input_names, "tensor(int64)")

    def warm_feeds(self, n: int) -> dict[str, np.ndarray]:
        """A synthetic batch of ``n`` texts of ``max_length`` tokens."""
        ones = np.ones((n, self.max_length), dtype=np.int64)
        return self.feeds((ones, ones))

    def input_metadata(self) -> list[dict[str, Any]]:
        """The OIP model-metadata inputs."""
        out: list[dict[str, Any]] = [{"name": FIELD, "datatype": "BYTES", "shape": [-1]}]
        if self.id_column:
            out.append({"name": self.id_column, "datatype": "BYTES", "shape": [-1], "optional": True})
        return out

    def parameters_metadata(self) -> dict[str, Any]:
        """How to send a text and how it is read."""
        return {
            "input_layout": "text: BYTES [N] (or [N, 1]), one UTF-8 text per row, tokenised by the server",
            "max_length_tokens": self.max_length,
            "max_chars": self.max_chars,
            "quantized": self.quantized,
        }
