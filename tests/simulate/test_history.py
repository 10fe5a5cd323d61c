"""The history features are causal and exact: compared with a brute-force loop over past events."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import DataError
from shopml.simulate.history import DAY_MS, TxnHistory


def _brute(cust: np.ndarray, t: np.ndarray, amount: np.ndarray) -> tuple[list[int], list[float], list[float]]:
    n24, avg, since = [], [], []
    for i in range(len(cust)):
        past = (cust == cust[i]) & (t < t[i])
        n24.append(int((past & (t >= t[i] - DAY_MS)).sum()))
        w30 = past & (t >= t[i] - 30 * DAY_MS)
        avg.append(float(amount[w30].mean()) if w30.any() else np.nan)
        since.append(float((t[i] - t[past].max()) / 1000) if past.any() else np.nan)
    return n24, avg, since


@pytest.mark.parametrize("seed", range(5))
def test_history_matches_brute_force_across_chunks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    chunks = 6
    per = [rng.integers(0, 40, 60) for _ in range(chunks)]
    times = [np.sort(rng.integers(0, DAY_MS * 3, 60)) + (31 + 3 * k) * DAY_MS for k in range(chunks)]
    amounts = [rng.lognormal(3, 1, 60) for _ in range(chunks)]
    h = TxnHistory()
    got = [h.add(c, t, a) for c, t, a in zip(per, times, amounts, strict=True)]
    cust, t, amount = np.concatenate(per), np.concatenate(times), np.concatenate(amounts)
    n24, avg, since = _brute(cust, t, amount)
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), n24)
    np.testing.assert_allclose(np.concatenate([g[1] for g in got]), avg, equal_nan=True)
    np.testing.assert_allclose(np.concatenate([g[2] for g in got]), since, equal_nan=True)


def test_ties_are_not_counted_as_past() -> None:
    h = TxnHistory()
    n24, avg, since = h.add(np.array([1, 1]), np.array([40 * DAY_MS, 40 * DAY_MS]), np.array([5.0, 7.0]))
    assert n24.tolist() == [0, 0]
    assert np.isnan(avg).all() and np.isnan(since).all()


def test_seeded_last_purchase_gives_time_since_last() -> None:
    h = TxnHistory()
    h.seed_last(np.array([-5_000, -(1 << 62)]))
    _, avg, since = h.add(np.array([0, 1]), np.array([40 * DAY_MS, 40 * DAY_MS]), np.array([1.0, 2.0]))
    assert since[0] == pytest.approx((40 * DAY_MS + 5_000) / 1000)
    assert np.isnan(since[1]) and np.isnan(avg).all()


def test_events_on_a_day_already_added_are_refused() -> None:
    h = TxnHistory()
    h.add(np.array([1]), np.array([40 * DAY_MS + 5]), np.array([1.0]))
    with pytest.raises(DataError, match="day 40 arrive after day 40"):
        h.add(np.array([2]), np.array([40 * DAY_MS + 9]), np.array([1.0]))
