"""Micro-batching on the event loop: concurrent requests for one model version become one model call.

Policy (bounded by ``max_batch_size`` rows and ``max_batch_delay`` seconds):

- a request is queued and a flush is scheduled for the next event-loop tick (``call_soon``), so every
  request that uvicorn parsed in the same loop iteration joins the same batch — under load that is
  all the connections that became readable together;
- a lone request is never held: when the loop has nothing else in hand, the next tick comes at once;
  when the server knows it is the only live request, it runs inline (:meth:`MicroBatcher.run_now`);
- while other requests are known to be mid-arrival (:meth:`arriving`), the flush waits for them, but
  never past ``max_batch_delay`` after the oldest queued request;
- a batch reaching ``max_batch_size`` rows is run immediately.

The model runs inline on the loop: ONNX Runtime answers a tree-model batch in tens of microseconds,
less than a thread hand-off would cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["MicroBatcher"]

Predict = Callable[[Any], np.ndarray]
Concat = Callable[[list[Any]], Any]
_Item = tuple[Any, int, "asyncio.Future[np.ndarray]"]


def concat_feeds(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Join per-input arrays of several requests (the default ``concat``)."""
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


class MicroBatcher:
    """Gather ``submit(payload, rows)`` calls into ``predict(concat(payloads))`` calls.

    ``on_batch(rows)`` observes each batch size. A payload is whatever ``concat`` joins (by default a
    dict of per-input arrays).
    """

    def __init__(
        self,
        predict: Predict,
        *,
        concat: Concat = concat_feeds,
        max_batch_size: int = 64,
        max_batch_delay_s: float = 0.002,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.predict = predict
        self.concat = concat
        self.max_batch_size = max_batch_size
        self.max_batch_delay_s = max_batch_delay_s
        self.on_batch = on_batch
        self._pending: list[_Item] = []
        self._rows = 0
        self._first = 0.0
        self._scheduled = False
        self._arriving = 0

    def arriving(self, delta: int) -> None:
        """Announce (+1) or withdraw (-1) a request whose body is still being read."""
        self._arriving += delta

    async def submit(self, feeds: Any, n: int) -> np.ndarray:
        """Queue a payload of ``n`` rows and wait for their scores."""
        return await self.enqueue(feeds, n)

    def enqueue(self, feeds: Any, n: int) -> asyncio.Future[np.ndarray]:
        """Queue a payload of ``n`` rows; the future gets their scores (one coroutine less than
        :meth:`submit` on the request path). Call it from the event loop."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[np.ndarray] = loop.create_future()
        if not self._pending:
            self._first = time.monotonic()
        self._pending.append((feeds, n, fut))
        self._rows += n
        if self._rows >= self.max_batch_size:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._tick)
        return fut

    def run_now(self, payload: Any, n: int) -> np.ndarray | None:
        """Score a lone request inline — no future, no tick, no extra loop turn — when nothing is queued
        or arriving; None: :meth:`enqueue` it instead. The caller knows no other request is about to
        run (e.g. the server has one live request)."""
        if self._pending or self._arriving:
            return None
        scores = self.predict(self.concat([payload]))
        if self.on_batch is not None:
            self.on_batch(n)
        return scores

    def _tick(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        waited = time.monotonic() - self._first
        if self._arriving > 0 and waited < self.max_batch_delay_s:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._tick)
            return
        self._flush()

    def _flush(self) -> None:
        while self._pending:
            pending = self._pending
            if self._rows <= self.max_batch_size:  # the usual case: everything queued is one batch
                self._pending, rows = [], self._rows
                self._rows = 0
                self._run(pending, rows)
                continue
            k, rows = 0, 0
            while k < len(pending) and (k == 0 or rows + pending[k][1] <= self.max_batch_size):
                rows += pending[k][1]
                k += 1
            self._pending = pending[k:]
            self._rows -= rows
            self._run(pending[:k], rows)

    def _run(self, batch: list[_Item], rows: int) -> None:
        try:
            scores = self.predict(self.concat([b[0] for b in batch]))
        except Exception as exc:
            for _, _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        if self.on_batch is not None:
            self.on_batch(rows)
        start = 0
        for _, n, fut in batch:
            if not fut.done():  # a cancelled request (client gone) is skipped
                fut.set_result(scores[start : start + n])
            start += n

    async def drain(self) -> None:
        """Run whatever is queued now (used before a version is retired)."""
        if self._pending:
            self._flush()
