"""Causal per-customer history features, vectorised per day chunk with state carried between chunks.

Events are keyed ``customer << 36 | time_ms`` (time in ms since the history origin; 2**36 ms ~ 795 days),
so one sorted int64 array orders them by customer, then time. For each new event only strictly earlier
events of the same customer count: ``txn_count_24h`` (events in the previous 24 h), ``amount_avg_30d``
(mean amount over the previous 30 days; null if none) and ``seconds_since_last_txn`` (null if never).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DAY_MS", "NEVER", "TxnHistory"]

DAY_MS = 86_400_000
TIME_BITS = 36
TIME_MASK = (1 << TIME_BITS) - 1
WINDOW_MS = 30 * DAY_MS
#: "No earlier purchase" in ``last_ms_`` (times before the origin are allowed there, unlike in keys).
NEVER = -(1 << 62)


class TxnHistory:
    """Keeps the last 30 days of (key, amount) sorted, and every customer's last event time.

    >>> h = TxnHistory()
    >>> c = np.array([7, 7, 7]); t = np.array([0, 1000, 90_000_000]) + 40 * DAY_MS
    >>> n24, avg, since = h.add(c, t, np.array([10.0, 20.0, 30.0]))
    >>> n24.tolist(), avg.tolist(), since.tolist()
    ([0, 1, 0], [nan, 10.0, 15.0], [nan, 1.0, 89999.0])
    """

    def __init__(self) -> None:
        self.keys_ = np.empty(0, np.int64)
        self.amounts_ = np.empty(0, np.float64)
        self.last_ms_ = np.empty(0, np.int64)

    def _grow(self, n_customers: int) -> None:
        if n_customers > len(self.last_ms_):
            extra = np.full(n_customers - len(self.last_ms_), NEVER, np.int64)
            self.last_ms_ = np.concatenate([self.last_ms_, extra])

    def seed_last(self, last_ms: np.ndarray) -> None:
        """Set every customer's last event time (ms, may be negative) before the history (NEVER: none)."""
        self._grow(len(last_ms))
        self.last_ms_[: len(last_ms)] = last_ms

    def add(
        self, customer: np.ndarray, t_ms: np.ndarray, amount: np.ndarray, *, features: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add one chunk of events (all later than every event already added) and return their
        ``(txn_count_24h, amount_avg_30d, seconds_since_last_txn)`` in input order (NaN = null)."""
        cust = customer.astype(np.int64)
        self._grow(int(cust.max()) + 1 if len(cust) else 0)
        key = (cust << TIME_BITS) | t_ms.astype(np.int64)
        order = np.argsort(key, kind="stable")
        k, a = key[order], amount[order]
        if len(k):  # forget what no window of this chunk can reach
            keep = (self.keys_ & TIME_MASK) >= int(t_ms.min()) - WINDOW_MS
            if not keep.all():
                self.keys_, self.amounts_ = self.keys_[keep], self.amounts_[keep]
        mk, ma, pos = _merge(self.keys_, self.amounts_, k, a)
        out = (np.empty(0, np.int64), np.empty(0), np.empty(0))
        if features:
            out = self._features(mk, ma, k, pos, cust[order], t_ms[order].astype(np.int64), order)
        last = np.flatnonzero(np.r_[k[1:] >> TIME_BITS != k[:-1] >> TIME_BITS, True])
        self.last_ms_[k[last] >> TIME_BITS] = k[last] & TIME_MASK
        self.keys_, self.amounts_ = mk, ma
        return out

    def _features(
        self,
        mk: np.ndarray,
        ma: np.ndarray,
        k: np.ndarray,
        pos: np.ndarray,
        cust: np.ndarray,
        t: np.ndarray,
        order: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cum = np.concatenate([[0.0], np.cumsum(ma)])
        # strictly earlier events end where the first of equal new keys was merged (old keys are all
        # earlier than new ones of the same customer), so no search is needed
        run_start = np.maximum.accumulate(np.where(np.r_[False, k[1:] == k[:-1]], 0, np.arange(len(k))))
        right = pos[run_start]
        left24 = np.searchsorted(mk, k - DAY_MS, "left")
        left30 = np.searchsorted(mk, k - WINDOW_MS, "left")
        n30 = right - left30
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = np.where(n30 > 0, (cum[right] - cum[left30]) / np.maximum(n30, 1), np.nan)
        prev = np.maximum(right - 1, 0)
        same = (right > 0) & ((mk[prev] >> TIME_BITS) == cust)
        prev_t = np.where(same, mk[prev] & TIME_MASK, self.last_ms_[cust])
        since = np.where(prev_t > NEVER, (t - prev_t) / 1000.0, np.nan)
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        return (right - left24)[inv], avg[inv], since[inv]


def _merge(
    keys: np.ndarray, values: np.ndarray, new_keys: np.ndarray, new_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge sorted ``new_keys`` into sorted ``keys`` (new after equal old ones) in sequential passes;
    also returns where each new key landed."""
    pos = np.searchsorted(keys, new_keys, "right") + np.arange(len(new_keys))
    old = np.ones(len(keys) + len(new_keys), bool)
    old[pos] = False
    mk = np.empty(len(old), np.int64)
    mv = np.empty(len(old), np.float64)
    mk[pos], mv[pos] = new_keys, new_values
    mk[old], mv[old] = keys, values
    return mk, mv, pos
