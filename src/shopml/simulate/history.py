"""Causal per-customer history features, vectorised per day with state carried between days.

For each new event only strictly earlier events of the same customer count: ``txn_count_24h`` (events
in the previous 24 h), ``amount_avg_30d`` (mean amount over the previous 30 days; null if none) and
``seconds_since_last_txn`` (null if never). Times are ms since the history origin; day ``D`` holds
``[D, D + 1)`` days of them.

The 30-day window of an event on day ``D`` is: the tail of day ``D - 30`` (one ``searchsorted`` in that
day's small sorted array), the whole days ``D - 29 .. D - 1`` (per-customer running counts and sums,
updated as days enter and leave the window) and the earlier events of day ``D`` itself. The 24-hour
window is the tail of day ``D - 1`` plus the earlier events of the day. Events are keyed
``customer << 36 | time_ms`` (2**36 ms ~ 795 days), so a sorted key array orders them by customer, then
time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopml.errors import DataError
from shopml.simulate.fastops import stable_argsort

__all__ = ["DAY_MS", "NEVER", "TxnHistory"]

DAY_MS = 86_400_000
TIME_BITS = 36
TIME_MASK = (1 << TIME_BITS) - 1
WINDOW_DAYS = 30
WINDOW_MS = WINDOW_DAYS * DAY_MS
#: "No earlier purchase" in ``last_ms_`` (times before the origin are allowed there, unlike in keys).
NEVER = -(1 << 62)


@dataclass
class _Day:
    """One day's events sorted by key, with per-customer totals."""

    keys: np.ndarray  # sorted int64 keys
    cum: np.ndarray  # cumulative amounts, len(keys) + 1
    customers: np.ndarray  # distinct customers of the day
    counts: np.ndarray  # events per distinct customer
    sums: np.ndarray  # amount per distinct customer


class TxnHistory:
    """Keeps the last 31 days of events by day, running 29-day totals and every customer's last event.

    >>> h = TxnHistory()
    >>> c = np.array([7, 7, 7]); t = np.array([0, 1000, 90_000_000]) + 40 * DAY_MS
    >>> n24, avg, since = h.add(c, t, np.array([10.0, 20.0, 30.0]))
    >>> n24.tolist(), avg.tolist(), since.tolist()
    ([0, 1, 0], [nan, 10.0, 15.0], [nan, 1.0, 89999.0])
    """

    def __init__(self) -> None:
        self.last_ms_ = np.empty(0, np.int64)
        self.count_ = np.empty(0, np.int64)  # events per customer in the whole days of the window
        self.sum_ = np.empty(0, np.float64)
        self.days_: dict[int, _Day] = {}
        self.in_window_: set[int] = set()
        self.last_day_: int | None = None

    def _grow(self, n_customers: int) -> None:
        extra = n_customers - len(self.last_ms_)
        if extra > 0:
            extra = max(extra, len(self.last_ms_) // 8)  # amortised growth
            self.last_ms_ = np.concatenate([self.last_ms_, np.full(extra, NEVER, np.int64)])
            self.count_ = np.concatenate([self.count_, np.zeros(extra, np.int64)])
            self.sum_ = np.concatenate([self.sum_, np.zeros(extra)])

    def seed_last(self, last_ms: np.ndarray) -> None:
        """Set every customer's last event time (ms, may be negative) before the history (NEVER: none)."""
        self._grow(len(last_ms))
        self.last_ms_[: len(last_ms)] = last_ms

    def add(
        self, customer: np.ndarray, t_ms: np.ndarray, amount: np.ndarray, *, features: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add one chunk of events (on days after every day already added) and return their
        ``(txn_count_24h, amount_avg_30d, seconds_since_last_txn)`` in input order (NaN = null).
        Raises DataError if the chunk reaches back into a day already added."""
        cust = customer.astype(np.int64)
        t = t_ms.astype(np.int64)
        n = len(cust)
        out = (np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, np.nan))
        if n == 0:
            return out if features else (np.empty(0, np.int64), np.empty(0), np.empty(0))
        self._grow(int(cust.max()) + 1)
        day = t // DAY_MS
        first, last = int(day.min()), int(day.max())
        if self.last_day_ is not None and first <= self.last_day_:
            raise DataError(f"history: events on day {first} arrive after day {self.last_day_} was added")
        if first == last:
            self._add_day(first, cust, t, amount, out if features else None, None)
        else:
            for d in range(first, last + 1):
                idx = np.flatnonzero(day == d)
                if len(idx):
                    self._add_day(d, cust[idx], t[idx], amount[idx], out if features else None, idx)
        return out if features else (np.empty(0, np.int64), np.empty(0), np.empty(0))

    def _slide(self, day: int) -> None:
        """Make the running totals cover exactly the stored days ``day - 29 .. day - 1``."""
        for d in sorted(self.in_window_):
            if d < day - (WINDOW_DAYS - 1):
                x = self.days_[d]
                self.count_[x.customers] -= x.counts
                self.sum_[x.customers] -= x.sums
                self.sum_[x.customers[self.count_[x.customers] == 0]] = 0.0  # no rounding residue
                self.in_window_.discard(d)
        for d, x in self.days_.items():
            if day - (WINDOW_DAYS - 1) <= d < day and d not in self.in_window_:
                self.count_[x.customers] += x.counts
                self.sum_[x.customers] += x.sums
                self.in_window_.add(d)
        for d in [d for d in self.days_ if d < day - WINDOW_DAYS]:
            del self.days_[d]

    def _add_day(
        self,
        day: int,
        cust: np.ndarray,
        t: np.ndarray,
        amount: np.ndarray,
        out: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        idx: np.ndarray | None,
    ) -> None:
        n = len(cust)
        key = (cust << TIME_BITS) | t
        # stable by (customer, time) = stable by time, then stable by customer (two packed sorts)
        tod = t - day * DAY_MS
        by_time = None if (n < 2 or bool((tod[1:] >= tod[:-1]).all())) else stable_argsort(tod)
        order = stable_argsort(cust) if by_time is None else by_time[stable_argsort(cust[by_time])]
        k, cs = key[order], cust[order]
        cum = np.empty(n + 1)
        cum[0] = 0.0
        np.cumsum(np.asarray(amount, np.float64)[order], out=cum[1:])
        new_group = np.r_[True, cs[1:] != cs[:-1]]
        starts = np.flatnonzero(new_group)
        customers = cs[starts]
        self._slide(day)
        if out is not None:
            gid = np.cumsum(new_group) - 1
            group_start = starts[gid]
            pos = np.arange(n)
            run_start = np.maximum.accumulate(np.where(np.r_[False, k[1:] == k[:-1]], 0, pos))
            earlier = run_start - group_start  # strictly earlier events of the customer today
            end = ((customers + 1) << TIME_BITS)[gid]  # keys of the next customer start here
            n24 = earlier.copy()
            if (prev := self.days_.get(day - 1)) is not None:
                n24 += np.searchsorted(prev.keys, end) - np.searchsorted(prev.keys, k - DAY_MS)
            n30 = earlier + self.count_[cs]
            s30 = cum[run_start] - cum[group_start] + self.sum_[cs]
            if (edge := self.days_.get(day - WINDOW_DAYS)) is not None:
                lo = np.searchsorted(edge.keys, k - WINDOW_MS)
                hi = np.searchsorted(edge.keys, end)
                n30 += hi - lo
                s30 += edge.cum[hi] - edge.cum[lo]
            with np.errstate(invalid="ignore", divide="ignore"):
                avg = np.where(n30 > 0, s30 / np.maximum(n30, 1), np.nan)
            ts = k & TIME_MASK
            prev_t = np.where(earlier > 0, ts[np.maximum(run_start - 1, 0)], self.last_ms_[cs])
            since = np.where(prev_t > NEVER, (ts - prev_t) / 1000.0, np.nan)
            target = order if idx is None else idx[order]
            out[0][target], out[1][target], out[2][target] = n24, avg, since
        ends = np.r_[starts[1:], n]
        self.last_ms_[customers] = k[ends - 1] & TIME_MASK
        self.days_[day] = _Day(k, cum, customers, ends - starts, cum[ends] - cum[starts])
        self.last_day_ = day
