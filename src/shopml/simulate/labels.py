"""Delayed labels: when each chargeback or return becomes known, and the feeds partitioned by arrival day.

A label feed partition ``date=D`` holds every label that arrives on day D. Labels are buffered per arrival
day and written once no later event can still add to that day (delays are at least one day).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopml.simulate.fastops import stable_argsort
from shopml.simulate.io import PartitionWriter, fixed_ids, timestamps

__all__ = ["DAY_US", "LabelFeed", "chargeback_delay_days", "return_delay_days"]

DAY_US = 86_400_000_000
MAX_CHARGEBACK_DAYS = 120.0  # card-scheme dispute window
#: Median chargeback delay per pattern, relative to the overall median (issuers spot card testing fast;
#: friendly fraud waits for the statement).
_PATTERN_SCALE = {"card_testing": 0.45, "account_takeover": 0.9, "friendly_fraud": 2.0}


def chargeback_delay_days(
    rng: np.random.Generator, pattern: np.ndarray, names: tuple[str, ...], median: float
) -> np.ndarray:
    """Log-normal delays in days (clipped to [1, 120]) for fraud rows with pattern index ``pattern``."""
    scale = np.array([_PATTERN_SCALE.get(n, 1.0) for n in names])[pattern]
    d = rng.lognormal(np.log(median * scale), 0.6)
    return np.clip(d, 1.0, MAX_CHARGEBACK_DAYS)


def return_delay_days(rng: np.random.Generator, n: int, window: int) -> np.ndarray:
    """Days from order to return: shipping plus deliberation, always inside the return window."""
    return np.clip(2.0 + rng.gamma(2.0, 3.5, size=n), 1.0, float(window) - 0.01)


class LabelFeed:
    """Buffers ``(ordinal, label, available_at)`` by arrival day and writes complete days."""

    def __init__(
        self,
        root: Path,
        origin: date,
        id_column: str,
        prefix: str,
        label_column: str,
        writer: PartitionWriter,
    ) -> None:
        self.root, self.writer = root, writer
        self.origin = origin
        self.origin_us = int((origin - date(1970, 1, 1)).days) * DAY_US
        self.id_column, self.prefix, self.label_column = id_column, prefix, label_column
        self._buf: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
        self.rows_ = 0
        self.partitions_: list[str] = []

    def add(self, ordinals: np.ndarray, labels: np.ndarray, available_us: np.ndarray) -> None:
        """Queue labels; ``available_us`` is microseconds since the epoch."""
        day = (available_us - self.origin_us) // DAY_US
        order = stable_argsort(day)
        day, ordinals, labels, available_us = day[order], ordinals[order], labels[order], available_us[order]
        cuts = np.flatnonzero(np.diff(day)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(day)], strict=True):
            if hi > lo:
                self._buf[int(day[lo])].append((ordinals[lo:hi], labels[lo:hi], available_us[lo:hi]))

    def flush(self, through_day: int | None = None) -> None:
        """Write every buffered arrival day ``<= through_day`` (all of them if None)."""
        ready = sorted(d for d in self._buf if through_day is None or d <= through_day)
        for d in ready:
            parts = self._buf.pop(d)
            day = self.origin + timedelta(days=d)
            self.writer.submit(self.root, day, functools.partial(self._table, parts))
            self.rows_ += sum(len(p[0]) for p in parts)
            self.partitions_.append(day.isoformat())

    def _table(self, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> pa.Table:
        """One arrival day's labels, sorted by arrival time then id (runs on a writer thread)."""
        ords = np.concatenate([p[0] for p in parts])
        labs = np.concatenate([p[1] for p in parts])
        avail = np.concatenate([p[2] for p in parts])
        if len(ords) > 1 and bool((ords[1:] > ords[:-1]).all()):  # ids arrive in order: sort by time
            order = stable_argsort(avail - avail.min())
        else:
            order = np.lexsort((ords, avail))
        return pa.table(
            {
                self.id_column: fixed_ids(self.prefix, ords[order], 10),
                self.label_column: pa.array(labs[order].astype(np.int8), pa.int8()),
                "label_available_at": timestamps(avail[order]),
            }
        )
