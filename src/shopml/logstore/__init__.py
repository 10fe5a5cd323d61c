"""The prediction log and the labels: one home for their layout, columns, writer and reader.

* :mod:`~shopml.logstore.layout` — where the files live and the columns every prediction has;
* :mod:`~shopml.logstore.stream` and :mod:`~shopml.logstore.writer` — the serving path's background
  writer and the batch writer (:func:`write_predictions`);
* :mod:`~shopml.logstore.reader` — windows of one model's log with DuckDB, in bounded memory;
* :mod:`~shopml.logstore.labels` — delayed labels, stored and joined back to the predictions.

Names are imported lazily (PEP 562): the server's writer does not pull in DuckDB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopml.logstore.labels import AVAILABLE_AT, REQUEST_ID, LabelIngestResult, LabelStore, ingest_labels
    from shopml.logstore.layout import LOG_COLUMNS, TIMESTAMP, model_dir, partition_dir, write_part
    from shopml.logstore.reader import LogSpan, PredictionLog, as_utc, connect, quote
    from shopml.logstore.stream import TIME_SOURCES, LogStream
    from shopml.logstore.writer import LogMetrics, LogWriter, write_predictions

_WHERE: dict[str, str] = {
    "AVAILABLE_AT": "shopml.logstore.labels",
    "LOG_COLUMNS": "shopml.logstore.layout",
    "REQUEST_ID": "shopml.logstore.labels",
    "TIMESTAMP": "shopml.logstore.layout",
    "LabelIngestResult": "shopml.logstore.labels",
    "LabelStore": "shopml.logstore.labels",
    "LogMetrics": "shopml.logstore.writer",
    "LogSpan": "shopml.logstore.reader",
    "LogStream": "shopml.logstore.stream",
    "TIME_SOURCES": "shopml.logstore.stream",
    "LogWriter": "shopml.logstore.writer",
    "PredictionLog": "shopml.logstore.reader",
    "as_utc": "shopml.logstore.reader",
    "connect": "shopml.logstore.reader",
    "ingest_labels": "shopml.logstore.labels",
    "model_dir": "shopml.logstore.layout",
    "partition_dir": "shopml.logstore.layout",
    "quote": "shopml.logstore.reader",
    "write_part": "shopml.logstore.layout",
    "write_predictions": "shopml.logstore.writer",
}

__all__ = [
    "AVAILABLE_AT",
    "LOG_COLUMNS",
    "REQUEST_ID",
    "TIMESTAMP",
    "TIME_SOURCES",
    "LabelIngestResult",
    "LabelStore",
    "LogMetrics",
    "LogSpan",
    "LogStream",
    "LogWriter",
    "PredictionLog",
    "as_utc",
    "connect",
    "ingest_labels",
    "model_dir",
    "partition_dir",
    "quote",
    "write_part",
    "write_predictions",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shopml.logstore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
