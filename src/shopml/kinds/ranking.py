"""The ``ranking`` kind: the top-K ``items`` and their ``scores``, from a score for every catalogue item.

The served ONNX output ``scores`` is [N, I]: one score per catalogue item (ids in ``bundle.json``'s
``items``, column order); the head keeps the K best (``top_k``, default 10). Labels are the item the
customer went on to take (click, add to cart); metrics rank it within the **full** catalogue, not a
sampled one, and ties count against the model (**conservative**: the true item ranks below every item
scored the same), so a constant scorer gets no credit. Primary metric Recall@K; the family adds MRR@K.
Output drift: chi-square on the logged top-1 item. A session without a next item stays unlabelled.

>>> s = np.array([[0.9, 0.5, 0.1], [0.2, 0.2, 0.2]])
>>> m = KIND.point_metrics(np.array([1, 0]), s, k=2)
>>> m["recall_at_k"], m["mrr_at_k"]
(0.5, 0.25)
"""

from __future__ import annotations

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

__all__ = ["KIND", "RankingHead", "RankingKind", "full_ranks", "items_of"]

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
        idx = np.argsort(-s, axis=1, kind="stable")[:, : self.k]
        return self.items[idx], np.take_along_axis(s, idx, axis=1)

    def encode_v1(self, model: str, version: int, request_ids: list[str], out: np.ndarray) -> bytes:
        """Per instance ``items`` and ``scores`` (best first)."""
        ids, sc = self.top(out)
        preds = [
            {"request_id": rid, "items": i, "scores": s, "model_version": version}
            for rid, i, s in zip(request_ids, ids.tolist(), sc.tolist(), strict=True)
        ]
        return orjson.dumps({"model": model, "model_version": version, "k": self.k, "predictions": preds})

    def encode_v2(self, model: str, version: int, rid: str, out: np.ndarray, outputs: list[str]) -> bytes:
        """``items`` BYTES [N, K] and ``scores`` FP32 [N, K] (row-major data)."""
        ids, sc = self.top(out)
        n = int(ids.shape[0])
        tensors = []
        for name in outputs:
            if name == "items":
                tensors.append(
                    {
                        "name": name,
                        "shape": [n, self.k],
                        "datatype": "BYTES",
                        "data": ids.reshape(-1).tolist(),
                    }
                )
            else:
                tensors.append(
                    {
                        "name": "scores",
                        "shape": [n, self.k],
                        "datatype": "FP32",
                        "data": sc.reshape(-1).tolist(),
                    }
                )
        return v2_response(model, version, rid, tensors, {"k": self.k})

    def score(self, out: np.ndarray) -> np.ndarray:
        """The best item's score."""
        return np.asarray(out, dtype=np.float64).max(axis=1)

    def columns(self, out: np.ndarray) -> dict[str, np.ndarray]:
        """``item`` (the top-1 id), ``items`` [N, K] and ``scores`` [N, K]."""
        ids, sc = self.top(out)
        return {"item": ids[:, 0], "items": ids, "scores": sc.astype(np.float64)}

    def metadata(self) -> dict[str, Any]:
        """K."""
        return {"k": self.k}


@register
class RankingKind(ModelKind):
    """Next-item recommendation over a catalogue."""

    name = "ranking"
    description = "ranking: the top-K items and their scores"
    served_output = "scores"
    outputs = (
        OutputSpec("items", "BYTES", (-1, -1), "the K best item ids, best first"),
        OutputSpec("scores", "FP32", (-1, -1), "their scores"),
    )
    metrics = ("recall_at_k", "mrr_at_k")
    primary_metric = "recall_at_k"
    lower_is_better = frozenset[str]()
    output_drift = (OutputDrift("item", "chi2"),)
    label = LabelSpec("string", "the item id taken next", missing_after_maturity=None)

    def head(self, meta: Mapping[str, Any]) -> RankingHead:
        """Head over the bundle's ``items``, keeping ``top_k``."""
        return RankingHead(items_of(meta), int(meta.get("top_k", DEFAULT_K)))

    def weighted_metrics(self, y: np.ndarray, pred: np.ndarray, **context: Any) -> WeightedMetrics:
        """Recall@K and MRR@K (context ``k``, default 10) over full-catalogue, tie-conservative ranks."""
        k = int(context.get("k", DEFAULT_K))
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        ranks = full_ranks(y, pred)
        hit = (ranks <= k).astype(np.float64)
        rr = hit / ranks

        def family(w: np.ndarray) -> Mapping[str, np.ndarray]:
            W = np.atleast_2d(np.asarray(w, dtype=np.float64))
            tot = W.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return {"recall_at_k": (W @ hit) / tot, "mrr_at_k": (W @ rr) / tot}

        return family

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
