"""Where the prediction log and the labels live, and the columns every logged prediction has.

Both sit under the workspace's ``logs/`` folder as Hive-style Parquet partitions:

* predictions: ``logs/predictions/model=NAME/date=YYYY-MM-DD/part-<uuid>.parquet`` (``date`` is the UTC
  day the prediction was made, ``ts``);
* labels: ``logs/labels/model=NAME/part-<uuid>.parquet``.

A part is written under a hidden temporary name and renamed, so a reader never sees half a file; a
write that fails removes its temporary file.

>>> model_dir(Path("ws/logs/predictions"), "fraud")
PosixPath('ws/logs/predictions/model=fraud')
>>> partition_dir(Path("ws/logs/predictions"), "fraud", "2026-03-01")
PosixPath('ws/logs/predictions/model=fraud/date=2026-03-01')
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "KIND_TYPES",
    "LOG_COLUMNS",
    "TIMESTAMP",
    "model_dir",
    "partition_dir",
    "write_part",
]

#: The columns every prediction-log row has, in order; the model's features, its business key and its
#: event-time column follow them.
LOG_COLUMNS = ("request_id", "ts", "model", "model_version", "score", "decision", "threshold", "latency_ms")
#: How times are stored: microseconds, UTC.
TIMESTAMP = pa.timestamp("us", tz="UTC")
#: The Arrow type a logged feature has, by schema kind.
KIND_TYPES = {"numeric": pa.float64(), "categorical": pa.string(), "boolean": pa.bool_()}


def model_dir(root: os.PathLike[str] | str, model: str) -> Path:
    """The folder of one model under a log root (``logs/predictions`` or ``logs/labels``)."""
    return Path(root) / f"model={model}"


def partition_dir(root: os.PathLike[str] | str, model: str, date: str) -> Path:
    """The folder of one model's predictions made on ``date`` (``YYYY-MM-DD``, UTC)."""
    return model_dir(root, model) / f"date={date}"


def write_part(folder: os.PathLike[str] | str, table: pa.Table) -> Path:
    """Write ``table`` as a new ``part-<uuid>.parquet`` in ``folder`` (created if needed), atomically."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    tmp = os.path.join(folder, f".{name}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, os.path.join(folder, name))
    except BaseException:  # a full disk, a bad value: no half-written temporary file stays behind
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return Path(folder) / name
