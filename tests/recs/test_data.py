"""The protocol: collapsed repeats, iterative minimum support, sessions from gaps, the time split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.errors import DataError
from shopml.recs.data import Split, load_events, prepare


def _table(rows: list[tuple[str, str, float]], key: str = "session_id") -> pa.Table:
    k, i, t = zip(*rows, strict=True)
    hour = 3_600_000_000
    return pa.table(
        {
            key: list(k),
            "item_id": list(i),
            "event_time": pa.array([int(x * hour) for x in t], pa.timestamp("us", tz="UTC")),
        }
    )


def test_collapse_and_iterative_support(tmp_path: Path) -> None:
    rows = [("s1", "a", 0), ("s1", "a", 0), ("s1", "b", 0)]  # a a b → a b
    rows += [(f"s{n}", x, n) for n in range(2, 7) for x in ("a", "b")]
    rows += [("s9", "a", 9), ("s9", "z", 9)]  # z seen once: dropped, then s9 is too short
    pq.write_table(_table(rows), tmp_path / "part.parquet")
    table, by_customer = load_events(tmp_path)
    s, ids = prepare(table, by_customer=by_customer)
    assert not by_customer and list(ids) == ["a", "b"]
    assert s.n_sessions == 6 and (s.lengths == 2).all()
    assert (s.item[s.offsets[:-1]] == 0).all()


def test_sessions_from_customer_gaps(tmp_path: Path) -> None:
    rows = [("c1", x, 10 * j + t) for j in range(3) for x, t in (("a", 0), ("b", 0.5), ("a", 3), ("b", 3.5))]
    pq.write_table(_table(rows, key="customer_id"), tmp_path / "part.parquet")
    table, by_customer = load_events(tmp_path)
    s, _ = prepare(table, by_customer=by_customer, min_item=1)
    assert by_customer and (s.ordinal == -1).all()
    assert s.n_sessions == 6 and (s.lengths == 2).all()  # a gap over 1 h starts a new session


def test_missing_columns_are_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"item_id": ["a"]}), tmp_path / "part.parquet")
    with pytest.raises(DataError, match="event_time, session_id"):
        load_events(tmp_path)


def test_time_split(recs_split: Split) -> None:
    sp = recs_split
    end = lambda s: s.time[s.offsets[1:] - 1]  # noqa: E731
    assert end(sp.train).max() < end(sp.test).min()
    assert end(sp.inner).max() < end(sp.valid).min() and end(sp.valid).max() <= end(sp.train).max()
    n = len(sp.items)
    for part in (sp.train, sp.test, sp.inner, sp.valid):
        assert (part.lengths >= 2).all() and part.item.min() >= 0 and part.item.max() < n
        assert not (part.item[1:] == part.item[:-1])[np.diff(part.session_of()) == 0].any()
    assert np.unique(sp.train.item).size == n  # the catalogue is the training period's items
