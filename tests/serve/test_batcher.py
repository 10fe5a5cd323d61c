"""Micro-batching: concurrent requests share a model call, a lone request is not held, sizes are bounded."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from shopml.serve import MicroBatcher


class _Model:
    """Scores = the ``x`` feed; records each call's row count."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        self.calls.append(len(feeds["x"]))
        return feeds["x"].reshape(-1) * 2.0


def _feeds(*values: float) -> dict[str, np.ndarray]:
    return {"x": np.array(values, dtype=np.float32).reshape(-1, 1)}


def test_concurrent_requests_share_one_call_and_get_their_own_rows() -> None:
    model = _Model()
    sizes: list[int] = []
    b = MicroBatcher(model, max_batch_size=64, max_batch_delay_s=0.002, on_batch=sizes.append)

    async def main() -> list[np.ndarray]:
        return await asyncio.gather(*(b.submit(_feeds(i, i + 0.5), 2) for i in range(10)))

    out = asyncio.run(main())
    assert model.calls == [20] and sizes == [20]
    for i, scores in enumerate(out):
        np.testing.assert_array_equal(scores, [2 * i, 2 * i + 1])


def test_batches_are_bounded_by_max_batch_size() -> None:
    model = _Model()
    b = MicroBatcher(model, max_batch_size=8, max_batch_delay_s=0.002)

    async def main() -> None:
        await asyncio.gather(*(b.submit(_feeds(i, i, i), 3) for i in range(7)))

    asyncio.run(main())
    assert sum(model.calls) == 21 and max(model.calls) <= 8


def test_lone_request_is_not_held_for_the_delay() -> None:
    b = MicroBatcher(_Model(), max_batch_size=64, max_batch_delay_s=0.5)

    async def main() -> float:
        t = time.perf_counter()
        await b.submit(_feeds(1.0), 1)
        return time.perf_counter() - t

    assert asyncio.run(main()) < 0.05


def test_waits_for_announced_arrivals_but_never_past_the_delay() -> None:
    model = _Model()
    b = MicroBatcher(model, max_batch_size=64, max_batch_delay_s=0.05)

    async def late() -> np.ndarray:
        await asyncio.sleep(0.005)
        b.arriving(-1)
        return await b.submit(_feeds(2.0), 1)

    async def main() -> float:
        b.arriving(1)
        t = time.perf_counter()
        await asyncio.gather(b.submit(_feeds(1.0), 1), late())
        return time.perf_counter() - t

    asyncio.run(main())
    assert model.calls == [2]
    b.arriving(1)  # an arrival that never comes: the queued request still goes after <= delay
    t = time.perf_counter()
    asyncio.run(b.submit(_feeds(3.0), 1))
    assert 0.04 <= time.perf_counter() - t < 0.5


def test_model_failure_reaches_every_waiter() -> None:
    def broken(feeds: dict[str, np.ndarray]) -> np.ndarray:
        raise RuntimeError("boom")

    b = MicroBatcher(broken, max_batch_size=4)

    async def main() -> list[object]:
        return await asyncio.gather(*(b.submit(_feeds(1.0), 1) for _ in range(3)), return_exceptions=True)

    assert all(isinstance(e, RuntimeError) for e in asyncio.run(main()))


def test_run_now_scores_a_lone_request_inline_only_when_nothing_waits() -> None:
    model = _Model()
    sizes: list[int] = []
    b = MicroBatcher(model, max_batch_size=64, on_batch=sizes.append)

    async def main() -> tuple[object, object, np.ndarray]:
        out = b.run_now(_feeds(1.0, 2.0), 2)
        queued = b.enqueue(_feeds(3.0), 1)
        refused = b.run_now(_feeds(4.0), 1)  # something is queued: the caller must enqueue
        return out, refused, await queued

    out, refused, queued = asyncio.run(main())
    np.testing.assert_array_equal(out, [2.0, 4.0])  # type: ignore[arg-type]
    assert refused is None and model.calls == [2, 1] and sizes == [2, 1]
    np.testing.assert_array_equal(queued, [6.0])
