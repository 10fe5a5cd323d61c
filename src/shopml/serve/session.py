"""The session codec: a browsing session (item ids, oldest first) in, the model's padded item matrix out,
and the per-request ranking (K, seen items excluded, the popularity list for an empty session) after.

Chosen for bundles whose kind reads sessions (``input_layout = "session"``, the ``ranking`` kind): see
:func:`shopml.serve.codecs.codec_for`. ``/v1`` takes ``{"instances": [{"session": ["i1", "i2"]}],
"parameters": {"k": 20, "exclude_seen": true}}``; OIP v2 takes a BYTES input ``session`` of shape
``[N, L]``, row-major, each row right-padded with ``""`` (the padding is ignored), as JSON data or as
binary tensor data, with the same ``parameters``. Item ids outside the catalogue are skipped, counted
(``shopml_unseen_categories{feature="session"}``) and named in the answer (``unknown_items``); the model
reads the latest ``max_session_length`` known items. A session with no known item gets the bundle's
popularity list (``source: "popular"``, scores null). Errors name the field and the instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shopml.errors import SchemaError
from shopml.kinds.ranking import Ranked, items_of, top_k
from shopml.registry.bundle import ModelBundle
from shopml.schema.checks import show
from shopml.serve.batch import Encoded
from shopml.serve.codecs import DEFAULT_MAX_K

__all__ = ["SessionBatch", "SessionCodec"]

FIELD = "session"
#: The optional business key of a session: logged, so that the session's next event can label the answer.
SESSION_ID = "session_id"
_Feeds = tuple[np.ndarray, np.ndarray]


class SessionBatch(Encoded):
    """Validated sessions: item indices, per-row seen and unknown items, and the request's K."""

    __slots__ = ("exclude", "k", "lengths", "matrix", "seen", "sessions", "unknown")

    def __init__(
        self,
        codec: SessionCodec,
        sessions: list[list[str]],
        known: list[list[int]],
        unknown: list[list[str]],
        k: int,
        exclude: bool,
        ids: list[Any] | None = None,
    ) -> None:
        count = sum(len(u) for u in unknown)
        unseen = {FIELD: count} if count else {}
        super().__init__(len(sessions), codec, logged={}, unseen=unseen, ids=ids)  # type: ignore[arg-type]
        width = max(1, max((min(len(s), codec.max_len) for s in known), default=1))
        matrix = np.zeros((self.n, width), dtype=np.int64)
        lengths = np.zeros(self.n, dtype=np.int64)
        for i, s in enumerate(known):
            tail = s[-codec.max_len :]
            matrix[i, : len(tail)] = tail
            lengths[i] = len(tail)
        self.matrix, self.lengths = matrix, lengths
        self.sessions, self.unknown, self.k, self.exclude = sessions, unknown, k, exclude
        self.seen = known

    def cache_key(self) -> tuple[Any, ...]:
        """The sessions (as sent) with K and the exclusion flag."""
        return (tuple(tuple(s) for s in self.sessions), self.k, self.exclude)

    def finish(self, scores: np.ndarray) -> Ranked:
        """Scores [n, I] → per row the top K (seen items dropped when asked; popularity when empty)."""
        codec: SessionCodec = self.codec  # type: ignore[assignment]
        k, items = self.k, codec.items
        # Seen items are dropped from a longer top list (no copy of the [n, I] scores to mask them).
        idx = top_k(scores, k + (max(len(set(s)) for s in self.seen) if self.exclude else 0))
        out_items: list[list[str]] = []
        out_scores: list[list[float]] = []
        extra: list[dict[str, Any]] = []
        for i in range(self.n):
            if self.lengths[i] == 0:
                out_items.append(codec.popular[:k])
                out_scores.append([float("nan")] * len(out_items[-1]))
                source = "popular"
            else:
                top = idx[i]
                if self.exclude and self.seen[i]:
                    top = top[~np.isin(top, self.seen[i])]
                top = top[:k]
                out_items.append(items[top].tolist())
                out_scores.append(scores[i, top].astype(np.float64).tolist())
                source = "model"
            extra.append({"unknown_items": self.unknown[i], "source": source})
        log: dict[str, list[Any]] = {
            FIELD: [s[-codec.max_len :] for s in self.sessions],
            "session_length": [float(len(s)) for s in self.sessions],
            "unknown_items": self.unknown,
        }
        return Ranked(out_items, out_scores, k, extra, log)


class SessionCodec:
    """Compiled session checks for one ranking bundle: the catalogue index, K bounds, popularity list."""

    layout = "session"
    v1_keys = frozenset({"instances", "parameters"})
    #: Prediction-log columns beyond the kind's: the session read (latest events) and the unknown items.
    log_types: Mapping[str, str] = {
        FIELD: "list<string>",
        "session_length": "float64",
        "unknown_items": "list<string>",
    }

    def __init__(self, bundle: ModelBundle, max_k: int = DEFAULT_MAX_K) -> None:
        meta = bundle.meta.model_dump(by_alias=True)
        names = items_of(meta)
        self.items = np.asarray(names, dtype=object)
        self.index = {item: i for i, item in enumerate(names)}
        self.max_len = int(meta.get("max_session_length") or 50)
        self.max_k = max(1, min(max_k, len(names)))
        self.default_k = max(1, min(int(meta.get("top_k") or 20), self.max_k))
        self.popular = [str(p) for p in meta.get("popular") or () if str(p) in self.index]
        self.names = [FIELD]
        self.kinds = {FIELD: "session"}
        self.log_kinds: dict[str, str] = {}
        self.matrix = frozenset({FIELD})  # inputs of shape [N, L]
        self.id_column: str | None = SESSION_ID
        self.time_column: str | None = None
        self.extras: frozenset[str] = frozenset({SESSION_ID})
        self.allowed = frozenset(self.names) | self.extras
        self.input_names = list(bundle.meta.inputs)  # the ONNX graph's: items, lengths

    # --- requests -------------------------------------------------------------------------------
    def options(self, params: Any) -> tuple[int, bool]:
        """``parameters`` → (k, exclude_seen); 422 naming the parameter when out of bounds."""
        if params is None:
            return self.default_k, False
        if not isinstance(params, dict):
            raise SchemaError(f"'parameters' must be an object, got {show(params)}")
        k = params.get("k", self.default_k)
        if type(k) is not int or not 1 <= k <= self.max_k:
            raise SchemaError(
                f"parameters.k must be an integer from 1 to {self.max_k} (the catalogue's size and"
                f" serve.max_k bound it), got {show(k)}"
            )
        exclude = params.get("exclude_seen", False)
        if type(exclude) is not bool:
            raise SchemaError(f"parameters.exclude_seen must be true or false, got {show(exclude)}")
        return k, exclude

    def encode_rows(self, rows: list[Any], params: Any = None) -> SessionBatch:
        """``/v1`` instances ``{"session": [item id, ...]}`` → a validated batch."""
        if not rows:
            raise SchemaError("'instances' is empty: send at least one session")
        sessions: list[Any] = []
        ids: list[Any] = []
        for i, row in enumerate(rows):
            if type(row) is not dict:
                raise SchemaError(f"instance {i} must be an object with a field 'session', got {show(row)}")
            if FIELD not in row or not self.allowed.issuperset(row):
                extra = sorted(k for k in row if k not in self.allowed)
                what = f"unexpected fields {extra}" if extra else "no field 'session'"
                raise SchemaError(
                    f"instance {i}: {what} (expected 'session': a list of item ids, optional 'session_id')"
                )
            sessions.append(row[FIELD])
            ids.append(row.get(SESSION_ID))
        return self._batch(sessions, params, ids)

    def encode_columns(self, n: int, columns: dict[str, list[Any]], params: Any = None) -> SessionBatch:
        """OIP v2: the ``session`` input as ``n`` rows of item ids (padding ``""`` dropped)."""
        extra = sorted(k for k in columns if k not in self.allowed)
        if extra or FIELD not in columns:
            raise SchemaError(
                f"inputs must be 'session' (BYTES [N, L]) and optionally 'session_id' (BYTES [N]),"
                f" got {sorted(columns)}"
            )
        rows = [[v for v in row if v != ""] for row in columns[FIELD]]
        return self._batch(rows, params, columns.get(SESSION_ID))

    def _batch(self, sessions: list[Any], params: Any, ids: list[Any] | None = None) -> SessionBatch:
        k, exclude = self.options(params)
        if ids is not None:
            bad = next((i for i, v in enumerate(ids) if v is not None and type(v) is not str), None)
            if bad is not None:
                got = show(ids[bad])
                raise SchemaError(f"instance {bad}: field 'session_id' must be a string, got {got}")
            if all(v is None for v in ids):
                ids = None
        index = self.index
        known: list[list[int]] = []
        unknown: list[list[str]] = []
        clean: list[list[str]] = []
        for i, s in enumerate(sessions):
            if type(s) is not list:
                raise SchemaError(f"instance {i}: field 'session' must be a list of item ids, got {show(s)}")
            ks: list[int] = []
            us: list[str] = []
            for j, item in enumerate(s):
                if type(item) is not str or not item:
                    raise SchemaError(
                        f"instance {i}: field 'session' must hold item ids (non-empty strings);"
                        f" element {j} is {show(item)}"
                    )
                at = index.get(item)
                if at is None:
                    us.append(item)
                else:
                    ks.append(at)
            known.append(ks)
            unknown.append(us)
            clean.append(s)
        return SessionBatch(self, clean, known, unknown, k, exclude, ids)

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """No tabular features: the session travels in the log's own columns."""
        return {}

    # --- the model ------------------------------------------------------------------------------
    @staticmethod
    def concat(parts: list[Any]) -> _Feeds:
        """The micro-batch of several requests: their item matrices (padded to the widest) and lengths."""
        if len(parts) == 1:
            return parts[0].matrix, parts[0].lengths
        width = max(p.matrix.shape[1] for p in parts)
        matrix = np.zeros((sum(p.n for p in parts), width), dtype=np.int64)
        at = 0
        for p in parts:
            matrix[at : at + p.n, : p.matrix.shape[1]] = p.matrix
            at += p.n
        return matrix, np.concatenate([p.lengths for p in parts])

    def feeds(self, block: _Feeds) -> dict[str, np.ndarray]:
        """ONNX feeds ``items`` [N, L] and ``lengths`` [N]."""
        return dict(zip(self.input_names, block, strict=True))

    def ort_types(self) -> dict[str, str]:
        """The ONNX inputs the graph must have."""
        return dict.fromkeys(self.input_names, "tensor(int64)")

    def warm_feeds(self, n: int) -> dict[str, np.ndarray]:
        """A synthetic batch of ``n`` full-length sessions."""
        return self.feeds((np.zeros((n, self.max_len), dtype=np.int64), np.full(n, self.max_len, np.int64)))

    def input_metadata(self) -> list[dict[str, Any]]:
        """The OIP model-metadata inputs."""
        return [
            {"name": FIELD, "datatype": "BYTES", "shape": [-1, -1]},
            {"name": SESSION_ID, "datatype": "BYTES", "shape": [-1], "optional": True},
        ]

    def parameters_metadata(self) -> dict[str, Any]:
        """How to send a session and which request parameters it takes."""
        return {
            "input_layout": (
                "session: BYTES [N, L], row-major item ids, oldest first, each row right-padded with ''"
            ),
            "max_session_length": self.max_len,
            "k_default": self.default_k,
            "k_max": self.max_k,
            "exclude_seen_default": False,
            "catalogue_size": len(self.items),
        }
