"""What the recommender answered and was asked when it was fresh: the reference of its drift checks.

Written into ``bundle.json`` (``reference_outputs``) at training, read by the monitor's output-drift
checks (:mod:`shopml.monitor.drift.outputs`, the ranking kind's ``output_drift``). Every reference is
taken on the requests of the test period, the freshest data the model did not fit on: one request per
raw event, holding its session so far, as the server is asked.

* ``session`` — the requested items' popularity: the item each request was made from (the session's
  newest event), as the ``TOP_ITEMS`` most requested items plus ``__other__`` (Jensen–Shannon). Few
  items: the simulated shop's item life cycles churn the long tail from one day to the next (the
  Jensen–Shannon distance between two clean days was about 0.07 on the top 20 and 0.2 on the top 200).
* ``unknown_items`` — per request, whether its session so far held an item outside the catalogue (a cold
  item): a 0/1 sketch whose mean is the cold share (tested for its rise). The catalogue is the one the
  inner training split knew: it ends as long before the test period as the served catalogue ends
  before the first production day, so the first day's launches are in the reference too (with the
  served catalogue the share rose by 16 points from the test day to the next clean day of a small world).
* ``item`` and ``score`` — the top-1 item (chi-square; top items + ``__other__`` as for ``session``) and
  its score (KS) the model answers to those requests (the session's latest known items, as served).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.kinds.base import OTHER_CATEGORY
from shopml.profile.sketch import NumericSketch
from shopml.recs.data import DAY_US, events_until

if TYPE_CHECKING:
    from shopml.recs.train import RecsConfig, RecsResult

__all__ = ["TOP_ITEMS", "reference_outputs", "request_items"]

#: Items named in the popularity reference; the rest count as ``__other__``.
TOP_ITEMS = 20


def request_items(table: pa.Table, catalogue: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per raw event (a request made after it), in session and time order: the item id, whether the
    session so far held an item outside ``catalogue``, and whether the event starts its session
    (events of ``session_key``/``item_id``/``event_time``, in any order)."""
    if table.num_rows == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    keys = pc.dictionary_encode(table["session_key"].combine_chunks()).indices.to_numpy()
    time = pc.cast(table["event_time"], pa.int64()).to_numpy()
    order = np.lexsort((time, keys))
    items = table["item_id"].combine_chunks().take(pa.array(order))
    known = pc.is_in(items, value_set=pa.array(catalogue, pa.string())).to_numpy(zero_copy_only=False)
    k = keys[order]
    start = np.r_[True, k[1:] != k[:-1]]
    cold = np.cumsum(~known)
    base = np.maximum.accumulate(np.where(start, cold - (~known), 0))  # cold count before each session
    return np.asarray(items.to_pylist(), dtype=object), (cold - base) > 0, start


def _served(result: RecsResult, items: np.ndarray, cold_free: np.ndarray, max_len: int, n: int) -> Any:
    """Top-1 indices and scores of the model on up to ``n`` requests (known items so far, the latest
    ``max_len``), as the server answers them; requests without a known item get no model answer."""
    import torch

    index = {c: i for i, c in enumerate(result.split.items)}
    codes = np.array([index.get(str(x), -1) for x in items.tolist()], dtype=np.int64)
    rows: list[list[int]] = []
    so_far: list[int] = []
    for code, new in zip(codes.tolist(), cold_free.tolist(), strict=True):
        so_far = [] if new else so_far
        if code >= 0:
            so_far = [*so_far, code][-max_len:]
        if so_far:
            rows.append(so_far)
    step = max(1, len(rows) // n) if rows else 1
    rows = rows[::step][:n]
    tops, scores = [], []
    model = result.gru.model_
    model.eval()
    for lo in range(0, len(rows), 256):
        chunk = rows[lo : lo + 256]
        width = max(len(r) for r in chunk)
        x = np.zeros((len(chunk), width), np.int64)
        for i, r in enumerate(chunk):
            x[i, : len(r)] = r
        with torch.no_grad():
            out = model(torch.from_numpy(x), torch.tensor([len(r) for r in chunk])).numpy()
        tops.append(out.argmax(axis=1))
        scores.append(out.max(axis=1).astype(np.float64))
    if not tops:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(tops), np.concatenate(scores)


def _top(values: np.ndarray) -> dict[str, int]:
    """Counts of the ``TOP_ITEMS`` most frequent values plus ``__other__`` (the rest)."""
    ids, counts = np.unique(values.astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    top = {str(ids[i]): int(counts[i]) for i in order[:TOP_ITEMS]}
    return dict(sorted((top | {OTHER_CATEGORY: int(counts[order[TOP_ITEMS:]].sum())}).items()))


def reference_outputs(
    cfg: RecsConfig, result: RecsResult, max_len: int = 50, n: int = 3000
) -> dict[str, Any]:
    """``bundle.json``'s ``reference_outputs`` for a trained recommender (see the module docstring)."""
    table, _ = events_until(cfg.data_dir, cfg.until)
    t = pc.cast(table["event_time"], pa.int64())
    end = pc.max(t).as_py()
    recent = table.filter(pc.greater(t, end - int(cfg.test_days * DAY_US)))
    inner = [result.split.items[i] for i in np.unique(result.split.inner.item).tolist()]
    items, cold, first = request_items(recent, inner)
    top1, scores = _served(result, items, first, max_len, n)
    return {
        "item": _top(np.asarray([result.split.items[int(i)] for i in top1.tolist()], dtype=object)),
        "session": _top(items),
        "unknown_items": NumericSketch.from_values(cold.astype(np.float64)).to_dict(),
        "score": NumericSketch.from_values(scores).to_dict(),
    }
