"""The session-based recommendation protocol's data: sessions, repeats collapsed, minimum support, and
the time split (Hidasi et al.; Ludewig & Jannach's evaluation framework).

1. Events are ordered by session and time; without a ``session_id`` column, a customer's events form
   sessions that break at gaps longer than ``gap_hours`` (1 h).
2. Immediate repeats of an item are collapsed (a reload or a cart of the item just viewed is not a next
   item to predict).
3. Minimum support, iterated until it holds: items with fewer than ``min_item`` events and sessions with
   fewer than ``min_session`` events are dropped (dropping one can break the other).
4. Time split: sessions that end in the last ``test_days`` days are the test set; the same split inside
   the training sessions gives validation. Test (validation) events whose item the training period never
   saw are dropped, then sessions shorter than ``min_session`` again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shopml.errors import DataError, InsufficientDataError

__all__ = ["Sessions", "Split", "events_until", "load_events", "prepare", "split_sessions"]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass
class Sessions:
    """Sessions laid end to end: session ``s`` holds ``item[offsets[s]:offsets[s + 1]]`` (catalogue
    indices, in time order). ``time`` is each event's time (µs); ``raw_pos`` its position among the
    session's raw events (before collapsing and filtering); ``ordinal`` the session's number when the
    ids are ``s<digits>`` (the simulator's), else -1."""

    item: np.ndarray
    offsets: np.ndarray
    time: np.ndarray
    raw_pos: np.ndarray
    ordinal: np.ndarray

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Events per session."""
        return np.diff(self.offsets)

    def session_of(self) -> np.ndarray:
        """The session index of every event."""
        return np.repeat(np.arange(self.n_sessions), self.lengths)

    def take(self, sessions: np.ndarray) -> Sessions:
        """The given sessions (in that order)."""
        sessions = np.asarray(sessions, np.int64)
        lens = self.lengths[sessions]
        rows = np.repeat(self.offsets[sessions] - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(
            lens.sum()
        )
        return Sessions(
            self.item[rows],
            np.r_[0, np.cumsum(lens)].astype(np.int64),
            self.time[rows],
            self.raw_pos[rows],
            self.ordinal[sessions],
        )

    def keep(self, rows: np.ndarray) -> Sessions:
        """Only the events where ``rows`` (bool) holds; emptied sessions vanish."""
        sid = self.session_of()[rows]
        counts = np.bincount(sid, minlength=self.n_sessions)
        alive = counts > 0
        return Sessions(
            self.item[rows],
            np.r_[0, np.cumsum(counts[alive])].astype(np.int64),
            self.time[rows],
            self.raw_pos[rows],
            self.ordinal[alive],
        )

    def collapse(self) -> Sessions:
        """Immediate repeats of an item removed."""
        first = np.zeros(len(self.item), bool)
        first[self.offsets[:-1][self.lengths > 0]] = True
        same = np.r_[False, self.item[1:] == self.item[:-1]]
        return self.keep(first | ~same)


@dataclass
class Split:
    """Item ids (catalogue order), the fitting sessions (``train``, all before the test period) and
    ``test``; ``inner`` / ``valid`` are the same split inside ``train``."""

    items: list[str]
    train: Sessions
    test: Sessions
    inner: Sessions
    valid: Sessions


def load_events(data: str | Path) -> tuple[pa.Table, bool]:
    """``data/sessions`` (or ``data`` itself) as a table with ``session_key``, ``item_id`` and
    ``event_time``, and whether the key is a customer (no ``session_id``: sessions at 1 h gaps)."""
    root = Path(data)
    folder = root / "sessions" if (root / "sessions").is_dir() else root
    if not folder.exists():
        raise DataError(
            f"no sessions at {folder}: run `shopml simulate` or point --data at a sessions folder"
        )
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    names = table.schema.names
    missing = [c for c in ("item_id", "event_time") if c not in names]
    if "session_id" not in names and "customer_id" not in names:
        missing.append("session_id (or customer_id)")
    if missing:
        raise DataError(f"sessions in {folder} need columns {', '.join(missing)}; got {names}")
    key = "session_id" if "session_id" in names else "customer_id"
    table = table.select([key, "item_id", "event_time"]).rename_columns(
        ["session_key", "item_id", "event_time"]
    )
    return table, key == "customer_id"


def events_until(data: str | Path, until: datetime | None) -> tuple[pa.Table, bool]:
    """:func:`load_events`, keeping only events before ``until`` (all of them when None)."""
    table, by_customer = load_events(data)
    if until is not None:
        cut = pa.scalar(until, pa.timestamp("us", tz="UTC"))
        table = table.filter(pc.less(table["event_time"], pc.cast(cut, table["event_time"].type)))
        if table.num_rows == 0:
            raise InsufficientDataError(f"no session events before {until.isoformat()} in {data}")
    return table, by_customer


def _sessionise(key: np.ndarray, time: np.ndarray, gap_us: int) -> np.ndarray:
    """Session numbers for events sorted by (key, time): a new session at a new key or a long gap."""
    new = np.r_[True, (key[1:] != key[:-1]) | (np.diff(time) > gap_us)]
    return np.cumsum(new) - 1


def prepare(
    table: pa.Table,
    *,
    gap_hours: float = 1.0,
    min_item: int = 5,
    min_session: int = 2,
    by_customer: bool = False,
) -> tuple[Sessions, np.ndarray]:
    """Sessions (collapsed, minimum support) and the item id of each catalogue index."""
    keys = table["session_key"].combine_chunks()
    time = pc.cast(table["event_time"], pa.int64()).to_numpy()
    key_codes = pc.dictionary_encode(keys)
    kc = key_codes.indices.to_numpy()
    order = np.lexsort((time, kc))
    kc, time = kc[order], time[order]
    sess = (
        _sessionise(kc, time, int(gap_hours * HOUR_US))
        if by_customer
        else np.r_[0, np.cumsum(kc[1:] != kc[:-1])]
    )
    item_codes = pc.dictionary_encode(table["item_id"].combine_chunks())
    ids = np.asarray(item_codes.dictionary.to_pylist(), dtype=object)
    item = item_codes.indices.to_numpy()[order].astype(np.int64)
    counts = np.bincount(sess)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    raw_pos = np.arange(len(sess)) - np.repeat(offsets[:-1], counts)
    first_key = key_codes.dictionary.to_pylist()
    names = [str(first_key[k]) for k in kc[offsets[:-1]]]
    ordinal = np.array([int(n[1:]) if n[:1] == "s" and n[1:].isdigit() else -1 for n in names], np.int64)
    if by_customer:
        ordinal[:] = -1
    s = Sessions(item, offsets, time, raw_pos, ordinal).collapse()
    while True:  # iterative minimum support
        n = len(s.item)
        ok_item = np.bincount(s.item, minlength=len(ids))[s.item] >= min_item
        s = s.keep(ok_item).collapse()
        s = s.take(np.flatnonzero(s.lengths >= min_session))
        if len(s.item) == n:
            break
    if s.n_sessions == 0:
        raise InsufficientDataError(f"no session has {min_session}+ events of items seen {min_item}+ times")
    used = np.unique(s.item)
    remap = np.full(len(ids), -1, np.int64)
    remap[used] = np.arange(used.size)
    s.item = remap[s.item]
    return s, ids[used]


def _time_split(s: Sessions, days: float, min_session: int) -> tuple[Sessions, Sessions]:
    end = s.time[s.offsets[1:] - 1]
    cut = int(end.max() - days * DAY_US)
    before, after = s.take(np.flatnonzero(end <= cut)), s.take(np.flatnonzero(end > cut))
    seen = np.zeros(int(s.item.max()) + 1, bool)
    seen[before.item] = True
    after = after.keep(seen[after.item]).collapse()
    return before, after.take(np.flatnonzero(after.lengths >= min_session))


def split_sessions(
    s: Sessions,
    ids: np.ndarray,
    *,
    test_days: float = 1.0,
    valid_days: float | None = None,
    min_session: int = 2,
) -> Split:
    """The time split (test: sessions ending in the last ``test_days``; validation the same inside the
    training sessions, ``valid_days`` defaulting to ``test_days``). Items are re-indexed to the training
    period's (test items outside it were dropped)."""
    train, test = _time_split(s, test_days, min_session)
    if train.n_sessions == 0 or test.n_sessions == 0:
        raise InsufficientDataError(
            f"the time split left {train.n_sessions} training and {test.n_sessions} test sessions "
            f"(test_days {test_days}): more days of sessions are needed"
        )
    used = np.unique(train.item)
    remap = np.full(len(ids), -1, np.int64)
    remap[used] = np.arange(used.size)
    for part in (train, test):
        part.item = remap[part.item]
    inner, valid = _time_split(train, valid_days if valid_days is not None else test_days, min_session)
    return Split([str(i) for i in ids[used]], train, test, inner, valid)
