"""Point-in-time windows: no future rows, no labels that had not arrived, holdout never trained on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.errors import DataError, InsufficientDataError
from shopml.loop.policy import DataPolicy, GatePolicy, WindowPolicy
from shopml.loop.window import count_new_labels, load_known, split_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=40)


@pytest.fixture
def data(tmp_path: Path) -> DataPolicy:
    """One row per hour for 60 days; every 10th row positive; labels arrive 5 days after the event."""
    n = 60 * 24
    times = [T0 + timedelta(hours=h) for h in range(n)]
    table = pa.table(
        {
            "event_time": pa.array(times, pa.timestamp("us", "UTC")),
            "amount": np.arange(n, dtype=float),
            "is_fraud": pa.array((np.arange(n) % 10 == 0).astype(np.int8)),
            "label_available_at": pa.array([t + timedelta(days=5) for t in times], pa.timestamp("us", "UTC")),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    return DataPolicy(path=tmp_path / "t.parquet")


def _times(t: pa.Table) -> list[datetime]:
    return t.column("event_time").to_pylist()


def test_no_future_rows_and_no_unarrived_labels(data: DataPolicy) -> None:
    table = load_known(data, NOW)
    assert max(_times(table)) <= NOW and table.num_rows == 40 * 24 + 1
    window = WindowPolicy(kind="expanding", pending_labels="drop", min_rows=10, min_positives=1)
    gate = GatePolicy(holdout_days=5, label_maturity_days=7)
    s = split_at(table, data, window, gate, NOW)
    assert max(_times(s.train)) <= NOW - timedelta(days=5)  # labels of the last 5 days have not arrived
    assert s.holdout_end == NOW - timedelta(days=7) and s.holdout_start == NOW - timedelta(days=12)
    assert all(s.holdout_start <= t < s.holdout_end for t in _times(s.holdout))
    assert not any(s.holdout_start <= t < s.holdout_end for t in _times(s.train))  # never trained on


def test_pending_labels_taken_as_negative(data: DataPolicy) -> None:
    table = load_known(data, NOW)
    window = WindowPolicy(kind="sliding", days=10, pending_labels="negative", min_rows=10, min_positives=1)
    s = split_at(table, data, window, GatePolicy(holdout_days=2, label_maturity_days=0), NOW)
    recent = [
        y
        for t, y in zip(_times(s.train), s.train.column("is_fraud").to_pylist(), strict=True)
        if t > NOW - timedelta(days=5)
    ]
    assert len(recent) > 24 and set(recent) == {0}  # pending rows kept, but as negatives
    assert min(_times(s.train)) >= NOW - timedelta(days=10)


def test_weighted_window_decays(data: DataPolicy) -> None:
    window = WindowPolicy(kind="weighted", half_life_days=7, min_rows=10, min_positives=1)
    s = split_at(load_known(data, NOW), data, window, GatePolicy(holdout_days=2, label_maturity_days=0), NOW)
    ages = np.array([(NOW - t).total_seconds() / 86400 for t in _times(s.train)])
    np.testing.assert_allclose(s.weights, 0.5 ** (ages / 7))


def test_errors_and_label_counts(data: DataPolicy, tmp_path: Path) -> None:
    window = WindowPolicy(min_rows=100_000)
    with pytest.raises(InsufficientDataError, match="need 100000 rows"):
        split_at(load_known(data, NOW), data, window, GatePolicy(), NOW)
    with pytest.raises(DataError, match="does not exist"):
        load_known(DataPolicy(path=tmp_path / "missing"), NOW)
    with pytest.raises(DataError, match=r"missing columns \['label_at'\]"):
        load_known(data.model_copy(update={"label_time_column": "label_at"}), NOW)
    assert count_new_labels(data, NOW - timedelta(days=1), NOW) == 24


def test_holdout_extends_back_until_it_holds_the_gate_positives(data: DataPolicy) -> None:
    table = load_known(data, NOW)
    window = WindowPolicy(kind="expanding", pending_labels="negative", min_rows=10, min_positives=1)
    fixed = split_at(
        table, data, window, GatePolicy(holdout_days=1, label_maturity_days=0, min_positives=20), NOW
    )
    assert fixed.holdout_start == NOW - timedelta(days=1)  # labels take 5 days: no known positive in it
    assert sum(fixed.holdout.column("is_fraud").to_pylist()) == 0
    gate = GatePolicy(holdout_days=1, max_holdout_days=20, label_maturity_days=0, min_positives=20)
    grown = split_at(table, data, window, gate, NOW)
    known = sum(grown.holdout.column("is_fraud").to_pylist())
    assert known >= 20 and grown.holdout_start == NOW - timedelta(days=13)  # 5 blind days, then 2.4 a day
    assert not any(grown.holdout_start <= t < grown.holdout_end for t in _times(grown.train))


def test_min_label_age_leaves_out_rows_too_young_to_judge(data: DataPolicy) -> None:
    window = WindowPolicy(
        kind="sliding", days=20, pending_labels="negative", min_label_age_days=5, min_rows=10
    )
    s = split_at(load_known(data, NOW), data, window, GatePolicy(holdout_days=2, label_maturity_days=7), NOW)
    assert max(_times(s.train)) <= NOW - timedelta(days=5)
    assert sum(s.train.column("is_fraud").to_pylist()) == s.train.num_rows // 10 + 1  # every label already in
