"""Arrow columns built straight from numpy buffers, and deterministic Parquet partitions.

String ids are fixed-width (``tx0000000042``) and written from a digit matrix without a Python loop;
categorical strings are a ``take`` from a small dictionary. The same arrays always give the same bytes.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "TS",
    "PartitionWriter",
    "categorical",
    "day_dir",
    "epoch_us",
    "fixed_ids",
    "nullable_float",
    "timestamps",
    "write_partition",
]

TS = pa.timestamp("us", tz="UTC")
_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], np.uint8)
_PAIRS16 = _PAIRS.view(np.uint16).ravel()  # the same two characters as one little-endian store


def fixed_ids(prefix: str, ordinals: np.ndarray, width: int) -> pa.Array:
    """Fixed-width string ids ``prefix + zero-padded ordinal``.

    >>> fixed_ids("tx", np.array([0, 42, 12345]), 5).to_pylist()
    ['tx00000', 'tx00042', 'tx12345']
    """
    n = len(ordinals)
    head = np.frombuffer(prefix.encode("ascii"), np.uint8)
    row = len(head) + width
    buf = np.empty((n, row), np.uint8)
    buf[:, : len(head)] = head
    small = n == 0 or int(ordinals.max()) < 1 << 32
    v: np.ndarray = ordinals.astype(np.uint32 if small else np.int64)  # 32-bit division is much cheaper
    j = row
    if row % 2 == 0 and sys.byteorder == "little":  # two digits per 16-bit store
        pairs = buf.view(np.uint16)
        while j - 2 >= len(head):
            q: np.ndarray = v // 100
            pairs[:, j // 2 - 1] = _PAIRS16[v - q * 100]
            v, j = q, j - 2
    else:
        while j - 2 >= len(head):
            q = v // 100
            buf[:, j - 2 : j] = _PAIRS[v - q * 100]
            v, j = q, j - 2
    if j > len(head):
        buf[:, j - 1] = 48 + v % 10
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
    """Write ``table`` as ``root/date=YYYY-MM-DD/part-0.parquet`` (deterministic bytes).

    Only low-cardinality string columns are dictionary-encoded and only time columns carry statistics:
    ids gain nothing from either and cost a third of the write time.
    """
    folder = day_dir(root, day)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-0.parquet"
    strings = [f.name for f in table.schema if pa.types.is_string(f.type) and not f.name.endswith("_id")]
    times = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
    pq.write_table(table, path, compression="snappy", use_dictionary=strings, write_statistics=times)
    return path


def _build_and_write(root: Path, day: date, table: pa.Table | Callable[[], pa.Table]) -> Path:
    return write_partition(root, day, table if isinstance(table, pa.Table) else table())


class PartitionWriter:
    """Writes partitions on background threads (Parquet encoding releases the GIL), so that writing
    overlaps generating the next day. At most ``max_pending`` tables wait in memory. Each file is written
    by one call, so the bytes do not depend on the threads."""

    def __init__(self, workers: int = 2, max_pending: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shopml-writer")
        self._pending: deque[Future[Path]] = deque()
        self.max_pending = max_pending

    def submit(self, root: Path, day: date, table: pa.Table | Callable[[], pa.Table]) -> None:
        """Queue one partition (blocks while ``max_pending`` are already queued). ``table`` may be a
        function that builds it, so that building the Arrow columns also runs on the writer threads."""
        while len(self._pending) >= self.max_pending:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(_build_and_write, root, day, table))

    def close(self) -> None:
        """Wait for every queued write (re-raising the first failure) and stop the thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True)
