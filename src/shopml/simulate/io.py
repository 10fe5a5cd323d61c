"""Arrow columns built straight from numpy buffers, and deterministic Parquet partitions.

String ids are fixed-width (``tx0000000042``) and written from a digit matrix without a Python loop;
categorical strings are a ``take`` from a small dictionary. The same arrays always give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "TS",
    "categorical",
    "day_dir",
    "epoch_us",
    "fixed_ids",
    "nullable_float",
    "timestamps",
    "write_partition",
]

TS = pa.timestamp("us", tz="UTC")


def fixed_ids(prefix: str, ordinals: np.ndarray, width: int) -> pa.Array:
    """Fixed-width string ids ``prefix + zero-padded ordinal``.

    >>> fixed_ids("tx", np.array([0, 42]), 4).to_pylist()
    ['tx0000', 'tx0042']
    """
    n = len(ordinals)
    head = np.frombuffer(prefix.encode("ascii"), np.uint8)
    row = len(head) + width
    buf = np.empty((n, row), np.uint8)
    buf[:, : len(head)] = head
    v = ordinals.astype(np.int64)
    for j in range(row - 1, len(head) - 1, -1):
        buf[:, j] = 48 + v % 10
        v = v // 10
    offsets = np.arange(0, (n + 1) * row, row, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def categorical(
    names: tuple[str, ...] | list[str], index: np.ndarray, null: np.ndarray | None = None
) -> pa.Array:
    """Strings ``names[index]`` (and null where ``null`` is True)."""
    mask = null if null is not None and null.any() else None
    return pa.array(list(names), pa.string()).take(pa.array(index.astype(np.int32), mask=mask))


def nullable_float(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """float64 with NaN (and optionally ``null``) written as nulls."""
    mask = np.isnan(values) if null is None else (np.isnan(values) | null)
    return pa.array(values, pa.float64(), mask=mask)


def timestamps(us: np.ndarray) -> pa.Array:
    """UTC microsecond timestamps from int64 microseconds since the epoch."""
    return pa.array(us.astype(np.int64), pa.int64()).cast(TS)


def epoch_us(day: date) -> int:
    """Microseconds since the epoch of ``day`` 00:00 UTC."""
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp()) * 1_000_000


def day_dir(root: Path, day: date) -> Path:
    """``root/date=YYYY-MM-DD``."""
    return root / f"date={day.isoformat()}"


def write_partition(root: Path, day: date, table: pa.Table) -> Path:
    """Write ``table`` as ``root/date=YYYY-MM-DD/part-0.parquet`` (deterministic bytes)."""
    folder = day_dir(root, day)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-0.parquet"
    pq.write_table(table, path, compression="snappy", write_statistics=True)
    return path
