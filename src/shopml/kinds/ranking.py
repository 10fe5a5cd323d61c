"""The ``ranking`` kind: the top-K ``items`` and their ``scores``, from a score for every catalogue item.

The served ONNX output ``scores`` is [N, I]: one score per catalogue item (ids in ``bundle.json``'s
``items``, column order); the head keeps the K best (``top_k``, default 10). Labels are the item the
customer went on to take (click, add to cart); metrics rank it within the **full** catalogue, not a
sampled one, and ties count against the model (**conservative**: the true item ranks below every item
scored the same), so a constant scorer gets no credit. Primary metric Recall@K; the family adds MRR@K.
Output drift: the top-1 item, the requested items' popularity, the cold-item share and the top-1 score
(see ``output_drift``). A session without a next item stays unlabelled.

Serving reads a browsing session (``input_layout = "session"``: :mod:`shopml.serve.session`), which
ranks per request (its own K, seen items excluded, the popularity list for an empty session) into a
:class:`Ranked`; the head encodes either that or a plain score matrix (the bundle's K).

>>> s = np.array([[0.9, 0.5, 0.1], [0.2, 0.2, 0.2]])
>>> m = KIND.point_metrics(np.array([1, 0]), s, k=2)
>>> m["recall_at_k"], m["mrr_at_k"]
(0.5, 0.25)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import orjson

from shopml.errors import ConfigError, DataError
from shopml.kinds.base import (
    KINDS,
    LabelSpec,
    ModelKind,
    OutputDrift,
    OutputHead,
    OutputSpec,
    WeightedMetrics,
    register,
    v2_response,
)

__all__ = ["KIND", "Ranked", "RankingHead", "RankingKind", "full_ranks", "items_of", "list_ranks", "top_k"]

DEFAULT_K = 10


def items_of(meta: Mapping[str, Any]) -> list[str]:
    """The bundle's item ids; :class:`DataError` when ``bundle.json`` lacks them."""
    items = meta.get("items")
    if not isinstance(items, list) or not items:
        raise DataError(f"a ranking bundle needs 'items' (the catalogue's item ids), got {items!r}")
    return [str(i) for i in items]


def full_ranks(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """1-based rank of each row's true item among all items, ties counted against it; an unknown item
    (index -1) ranks last (I + 1)."""
    s = np.asarray(scores, dtype=np.float64)
    yy = np.asarray(y, dtype=np.int64)
    n, i = s.shape
    known = (yy >= 0) & (yy < i)
    true = s[np.arange(n), np.clip(yy, 0, i - 1)][:, None]
    ranks = (s >= true).sum(axis=1)  # counts the true item itself, so every tie is ranked above it
    return np.where(known & np.isfinite(true[:, 0]), ranks, i + 1)


def list_ranks(y: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """1-based position of each row's true item in its ranked list ``ranked`` [N, K] (catalogue indices,
    best first, -1 padding): what the prediction log's top-K tells. An item outside the list (or an
    unknown one) ranks beyond any K: a miss.

    >>> list_ranks(np.array([3, 1, 9]), np.array([[3, 1], [2, 1], [2, 1]])).tolist()
    [1, 2, 2147483647]
    """
    yy = np.asarray(y, dtype=np.int64)[:, None]
    r = np.asarray(ranked, dtype=np.int64)
    found = (r == yy) & (yy >= 0)
    pos = np.argmax(found, axis=1) + 1
    return np.where(found.any(axis=1), pos, np.iinfo(np.int32).max)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices [N, k] of each row's k best scores, best first, ties in catalogue order (as a stable
    sort), via a partition: O(I) per row instead of a full sort of the catalogue."""
    s = np.asarray(scores)
    n, m = s.shape
    k = min(k, m)
    if k >= m or m <= 256:
        return np.argsort(-s, axis=1, kind="stable")[:, :k]
    kth = np.partition(s, m - k, axis=1)[:, m - k]  # each row's k-th best value
    out = np.empty((n, k), dtype=np.int64)
    for r in range(n):
        cand = np.flatnonzero(s[r] >= kth[r])  # k items, more when the k-th value is tied
        out[r] = cand[np.argsort(-s[r, cand], kind="stable")[:k]]
    return out


class Ranked:
    """Per row the ranked item ids and their scores (NaN: not a model score, e.g. the popularity
    fallback), the K asked for, extra answer fields per row and extra log columns."""

    __slots__ = ("extra", "items", "k", "log", "scores")

    def __init__(
        self,
        items: list[list[str]],
        scores: list[list[float]],
        k: int,
        extra: list[dict[str, Any]] | None = None,
        log: dict[str, list[Any]] | None = None,
    ) -> None:
        self.items, self.scores, self.k = items, scores, k
        self.extra = extra
        self.log = log or {}

    def __len__(self) -> int:
        return len(self.items)


class RankingHead(OutputHead):
    """The top-K item ids and their scores."""

    names = ("items", "scores")
    log_types: ClassVar[dict[str, str]] = {
        "item": "string",
        "items": "list<string>",
        "scores": "list<float64>",
    }

    def __init__(self, items: list[str], k: int) -> None:
        self.items = np.asarray(items, dtype=object)
        self.k = min(k, len(items))

    def top(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Item ids [N, K] and scores [N, K], best first (ties by catalogue order)."""
        s = np.asarray(out, dtype=np.float32)
        idx = top_k(s, self.k)
        return self.items[idx], np.take_along_axis(s, idx, axis=1)

    def ranked(self, out: np.ndarray | Ranked) -> Ranked:
        """``out`` as :class:`Ranked` (a score matrix is ranked with the bundle's K)."""
        if isinstance(out, Ranked):
            return out
        ids, sc = self.top(out)
        return Ranked(ids.tolist(), sc.astype(np.float64).tolist(), self.k)

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: Any) -> bytes:
        """Per instance ``items`` and ``scores`` (best first) and any per-row extras."""
        r = self.ranked(out)
        extra = r.extra or [{}] * len(r)
        preds = [
            {"request_id": rid, "items": i, "scores": s, "model_version": version, **e}
            for rid, i, s, e in zip(request_ids, r.items, r.scores, extra, strict=True)
        ]
        return orjson.dumps({"model": model, "model_version": version, "k": r.k, "predictions": preds})

    def encode_v2(self, model: str, version: int, rid: str, out: Any, outputs: list[str]) -> bytes:
        """``items`` BYTES [N, K] and ``scores`` FP32 [N, K] (row-major data; a row with fewer than K
        items is padded with ``""`` and NaN); per-row extras as lists in the answer's parameters."""
        r = self.ranked(out)
        n, k = len(r), r.k
        tensors = []
        for name in outputs:
            if name == "items":
                data: list[Any] = [v for row in r.items for v in (*row, *[""] * (k - len(row)))]
                tensors.append({"name": name, "shape": [n, k], "datatype": "BYTES", "data": data})
            else:
                data = [v for row in r.scores for v in (*row, *[math.nan] * (k - len(row)))]
                tensors.append({"name": "scores", "shape": [n, k], "datatype": "FP32", "data": data})
        params: dict[str, Any] = {"k": k}
        if r.extra:
            for key in r.extra[0]:
                params[key] = [e[key] for e in r.extra]
        return v2_response(model, version, rid, tensors, params)

    def score(self, out: Any) -> np.ndarray:
        """The best item's score (NaN when it is not a model score)."""
        if isinstance(out, Ranked):
            return np.array([s[0] if s else math.nan for s in out.scores], dtype=np.float64)
        return np.asarray(out, dtype=np.float64).max(axis=1)

    def columns(self, out: Any) -> dict[str, Any]:
        """``item`` (the top-1 id), ``items`` [N, K] and ``scores`` [N, K]."""
        if isinstance(out, Ranked):
            top1 = [i[0] if i else None for i in out.items]
            return {"item": np.asarray(top1, dtype=object), "items": out.items, "scores": out.scores}
        ids, sc = self.top(out)
        return {"item": ids[:, 0], "items": ids, "scores": sc.astype(np.float64)}

    def log_columns(self, out: Any) -> dict[str, Any]:
        """The kind's columns and, for a :class:`Ranked` answer, its extra log columns."""
        cols = super().log_columns(out)
        return cols | out.log if isinstance(out, Ranked) else cols

    def metadata(self) -> dict[str, Any]:
        """K."""
        return {"k": self.k}


@register
class RankingKind(ModelKind):
    """Next-item recommendation over a catalogue."""

    name = "ranking"
    #: The served model reads a browsing session (``shopml.serve.session``), not a feature row.
    input_layout = "session"
    description = "ranking: the top-K items and their scores"
    served_output = "scores"
    #: What the monitor reads from the prediction log to measure a model: the top-K item ids.
    logged_output = "items"
    outputs = (
        OutputSpec("items", "BYTES", (-1, -1), "the K best item ids, best first"),
        OutputSpec("scores", "FP32", (-1, -1), "their scores"),
    )
    metrics = ("recall_at_k", "mrr_at_k")
    primary_metric = "recall_at_k"
    lower_is_better = frozenset[str]()
    #: The top-1 item (chi-square); the requested items' popularity (the item each request came from:
    #: its session's newest event; Jensen–Shannon on the top items + the rest); the share of requests
    #: holding a cold item, one the model never saw (its rise); the top-1 score (KS). References: the
    #: bundle's ``reference_outputs`` (:mod:`shopml.recs.reference`). The cold share is relevant from a
    #: rise of 20 points: in a small simulated shop it rose by up to 16 points from the test day to the
    #: next clean day (daily launches); the new-items surge raised it by 18 points on its first day and
    #: 32 on its second.
    output_drift = (
        OutputDrift("item", "chi2"),
        OutputDrift("session", "jensenshannon", reduce="last"),
        OutputDrift("unknown_items", "share_rise", reduce="any", threshold=0.2),
        OutputDrift("score", "ks"),
    )
    block_column = "session_id"
    label = LabelSpec(
        "string",
        "the item id taken next",
        missing_after_maturity=None,
        null_means="the session ended: there is no next item to recommend",
    )

    def head(self, meta: Mapping[str, Any]) -> RankingHead:
        """Head over the bundle's ``items``, keeping ``top_k``."""
        return RankingHead(items_of(meta), int(meta.get("top_k", DEFAULT_K)))

    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """Recall@K and MRR@K (context ``k``, default 10) over full-catalogue, tie-conservative ranks;
        ``pred`` of integers is the logged top-K (:meth:`logged_ranking`), ranked by position, with K the
        logged lists' length unless ``k`` is given."""
        p = np.asarray(pred)
        listed = np.issubdtype(p.dtype, np.integer)
        default = int(p.shape[1]) if listed and p.ndim == 2 else DEFAULT_K
        k = int(context.get("k", default))
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        ranks = list_ranks(y, p) if listed else full_ranks(y, p)
        hit = (ranks <= k).astype(np.float64)
        rr = hit / ranks

        def family(w: np.ndarray) -> Mapping[str, np.ndarray]:
            W = np.atleast_2d(np.asarray(w, dtype=np.float64))
            tot = W.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return {"recall_at_k": (W @ hit) / tot, "mrr_at_k": (W @ rr) / tot}

        return family

    def row_errors(
        self, y: np.ndarray, pred: np.ndarray, meta: Mapping[str, Any], **context: Any
    ) -> np.ndarray:
        """1 where the taken item is not in the top K (the bundle's ``top_k``), else 0."""
        k = int(context.get("k", meta.get("top_k", DEFAULT_K)))
        p = np.asarray(pred)
        ranks = list_ranks(y, p) if np.issubdtype(p.dtype, np.integer) else full_ranks(y, p)
        return (ranks > k).astype(np.float64)

    def logged_predictions(self, values: Sequence[Any], meta: Mapping[str, Any]) -> np.ndarray:
        """See :meth:`logged_ranking`."""
        return self.logged_ranking(values, meta)

    def logged_ranking(self, items: Sequence[Sequence[str] | None], meta: Mapping[str, Any]) -> np.ndarray:
        """The prediction log's ``items`` lists → catalogue indices [N, K] (-1: padding or unknown), the
        ``pred`` that :meth:`weighted_metrics` ranks by position (realised Recall@K/MRR@K from the log)."""
        index = {c: i for i, c in enumerate(items_of(meta))}
        width = max((len(r) for r in items if r), default=1)
        out = np.full((len(items), width), -1, dtype=np.int64)
        for i, row in enumerate(items):
            for j, item in enumerate(row or ()):
                out[i, j] = index.get(item, -1)
        return out

    def check_labels(
        self, values: Sequence[Any] | np.ndarray, meta: Mapping[str, Any], field: str = "label"
    ) -> np.ndarray:
        """Item ids → catalogue indices; an id outside the catalogue becomes -1 (ranked last, a miss)."""
        index = {c: i for i, c in enumerate(items_of(meta))}
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(np.asarray(values, dtype=object).tolist()):
            if isinstance(v, bool) or not isinstance(v, str | int | np.integer):
                raise DataError(f"{field} must be an item id, got {v!r} (row {i})")
            out[i] = index.get(str(v), -1)
        return out

    def chance(self, y_train: np.ndarray, n: int) -> np.ndarray:
        """Every item scored alike (ties count against: no credit)."""
        return np.zeros((n, int(np.max(y_train)) + 1 if len(y_train) else 1))

    def make_estimator(self, params: Mapping[str, Any], seed: int, n_outputs: int) -> Any:
        """Ranking models are sequence models (``shopml.nn``), not tabular estimators."""
        raise ConfigError("model kind 'ranking' has no tabular estimator; ranking models come from shopml.nn")

    def predict(self, estimator: Any, X: Any) -> np.ndarray:
        """Scores [n, I] of a scoring estimator with ``predict``."""
        return np.asarray(estimator.predict(X), dtype=np.float32)


KIND = KINDS[RankingKind.name]
