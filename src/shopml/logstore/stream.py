"""How one served model version's predictions are encoded on the request path and parsed back into the
log's columns (:data:`shopml.logstore.layout.LOG_COLUMNS`, then features, business key, event time,
``time_source`` — whose clock the row's monitoring time comes from, see :data:`TIME_SOURCES` — then the
model kind's output columns: a multiclass model's ``predicted_label`` and ``probabilities``, a
regression model's ``value``, a ranking model's ``items``; see ``OutputHead.log_types``).

The request path turns its rows into CSV lines with orjson (a few µs, no Arrow, no I/O); the writer
thread parses each group of lines with Arrow's CSV reader, in C++ without the GIL.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shopml.logstore.layout import KIND_TYPES, TIMESTAMP

#: The Arrow type of a kind output column, by ``OutputHead.log_types`` name. A list travels in its CSV
#: line as a JSON string and is decoded by the writer thread.
OUTPUT_TYPES = {
    "float64": pa.float64(),
    "string": pa.string(),
    "list<float64>": pa.list_(pa.float64()),
    "list<float32>": pa.list_(pa.float32()),
    "list<string>": pa.list_(pa.string()),
}

__all__ = ["TIME_SOURCES", "LogStream"]

#: Values of the ``time_source`` column: ``server`` (no event time came: the monitor uses ``ts``, the
#: server's clock), ``client`` (the client's event time, checked within ``serve.event_time_window_s``
#: of the server's clock), ``client_unchecked`` (the client's event time taken as sent: the window is 0,
#: a replay or backfill). Logs written before the column existed read it as null.
TIME_SOURCES = ("server", "client", "client_unchecked")

_NL = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY


class LogStream:
    """The log layout of one served model version; turns answered rows into CSV lines.

    A line holds the columns of :attr:`schema` in order, each value as orjson writes it (strings
    quoted, NaN and None as ``null``, booleans ``true``/``false``): a JSON array without its
    brackets. Arrow's CSV reader parses that 4–5x faster than its JSON reader parses objects (0.5–0.7
    vs 2.6–3.9 µs per row, measured), in the writer thread. A string with a character JSON escapes
    (quote, backslash, control characters) is re-quoted for the CSV reader (``\\`` escapes, raw
    newlines inside quotes), so every value reads back exactly.
    """

    def __init__(
        self,
        model: str,
        version: int,
        threshold: float,
        kinds: dict[str, str],
        id_column: str | None = None,
        time_column: str | None = None,
        outputs: dict[str, str] | None = None,
    ) -> None:
        self.model, self.version, self.threshold = model, version, threshold
        self.kinds, self.id_column, self.time_column = kinds, id_column, time_column
        self.outputs = {n: OUTPUT_TYPES[t] for n, t in (outputs or {}).items()}
        self._lists = [n for n, t in self.outputs.items() if pa.types.is_list(t)]
        fields = [("request_id", pa.string()), ("ts", pa.int64()), ("score", pa.float64())]
        fields += [("latency_ms", pa.float64())] + [(n, KIND_TYPES[k]) for n, k in kinds.items()]
        fields += [(id_column, pa.string())] if id_column else []
        fields += [(time_column, pa.int64())] if time_column else []
        fields += [("time_source", pa.string())]
        fields += [(n, pa.string() if n in self._lists else t) for n, t in self.outputs.items()]
        self.schema = pa.schema(fields)
        self._values = [*kinds, *([id_column] if id_column else [])]  # taken from a row, in order
        self._csv = (
            pacsv.ReadOptions(column_names=self.schema.names, use_threads=False),
            pacsv.ParseOptions(quote_char='"', escape_char="\\", double_quote=False, newlines_in_values=True),
            pacsv.ConvertOptions(
                column_types={f.name: f.type for f in self.schema},
                null_values=["null"],
                true_values=["true"],
                false_values=["false"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )

    def lines(
        self,
        request_ids: list[str],
        scores: np.ndarray,
        features: dict[str, list[Any]],
        ts: float,
        latency_ms: float,
        ids: list[Any] | None = None,
        times: list[datetime | None] | None = None,
        outputs: dict[str, np.ndarray] | None = None,
        time_source: str = "client",
    ) -> bytes:
        """One line per row from per-feature value lists (NaN is written as null); ``outputs``: the
        kind's output columns (``OutputHead.log_columns``); ``time_source``: what a row with an event
        time records (:data:`TIME_SOURCES`; a row without one records ``server``)."""
        ts_us = int(ts * 1e6)
        columns = [features[name] for name in self.kinds]
        extra = self._extra(outputs, len(request_ids))
        out = []
        for i, rid in enumerate(request_ids):
            vals = [rid, ts_us, scores[i], latency_ms, *[c[i] for c in columns]]
            if self.id_column:
                vals.append(ids[i] if ids is not None else None)
            t = times[i] if times is not None and self.time_column else None
            if self.time_column:
                vals.append(None if t is None else int(t.timestamp() * 1e6))
            vals.append("server" if t is None else time_source)
            if extra:
                vals += [c[i] for c in extra]
            out.append(_line(vals))
        return b"".join(out)

    def row_lines(
        self,
        rows: list[dict[str, Any]],
        request_ids: list[str],
        scores: np.ndarray,
        ts: float,
        latency_ms: float,
        times: list[datetime | None] | None = None,
        outputs: dict[str, np.ndarray] | None = None,
        time_source: str = "client",
    ) -> bytes:
        """:meth:`lines` for rows that passed the codec's fast path: the values are read straight from
        each client row dict (features and id)."""
        ts_us = int(ts * 1e6)
        names, time_column = self._values, self.time_column
        extra = self._extra(outputs, len(rows))
        out = []
        for i, row in enumerate(rows):
            vals = [request_ids[i], ts_us, scores[i], latency_ms, *[row.get(n) for n in names]]
            t = times[i] if times is not None and time_column is not None else None
            if time_column is not None:
                vals.append(None if t is None else int(t.timestamp() * 1e6))
            vals.append("server" if t is None else time_source)
            if extra:
                vals += [c[i] for c in extra]
            out.append(_line(vals))
        return out[0] if len(out) == 1 else b"".join(out)

    def _extra(self, outputs: dict[str, np.ndarray] | None, n: int) -> list[list[Any]]:
        """The output columns as per-row value lists, in :attr:`outputs` order (a list as JSON text)."""
        if not self.outputs:
            return []
        got = outputs or {}
        cols: list[list[Any]] = []
        for name in self.outputs:
            values = got.get(name)
            if values is None:
                cols.append([None] * n)
            elif name in self._lists:
                cols.append([orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode() for v in values])
            else:
                cols.append(np.asarray(values).tolist())
        return cols

    def table(self, data: bytes) -> pa.Table:
        """Parse lines back into the contract's columns (runs in the writer thread, GIL released)."""
        read, parse, convert = self._csv
        read = pacsv.ReadOptions(
            column_names=read.column_names, use_threads=False, block_size=max(len(data) + 1, 1 << 20)
        )
        raw = pacsv.read_csv(
            io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert
        )
        n = raw.num_rows
        score = raw.column("score")
        cols: dict[str, Any] = {
            "request_id": raw.column("request_id"),
            "ts": raw.column("ts").cast(TIMESTAMP),
            "model": pa.array([self.model] * n, pa.string()),
            "model_version": pa.array(np.full(n, self.version, dtype=np.int64)),
            "score": score,
            "decision": pc.greater_equal(score, self.threshold).cast(pa.int8()),
            "threshold": pa.array(np.full(n, self.threshold)),
            "latency_ms": raw.column("latency_ms"),
        }
        for name in self.kinds:
            cols[name] = raw.column(name)
        if self.id_column:
            cols[self.id_column] = raw.column(self.id_column)
        if self.time_column:
            cols[self.time_column] = raw.column(self.time_column).cast(TIMESTAMP)
        cols["time_source"] = raw.column("time_source")
        for name, typ in self.outputs.items():
            col = raw.column(name)
            if name in self._lists:
                col = pa.array([None if s is None else orjson.loads(s) for s in col.to_pylist()], typ)
            cols[name] = col
        return pa.table(cols)


def _line(values: list[Any]) -> bytes:
    """One CSV line: the orjson array without brackets, or, when a string needed a JSON escape, the
    values re-quoted for the CSV reader."""
    line = orjson.dumps(values, option=_NL)
    if b"\\" not in line:
        return line[1:-2] + b"\n"
    parts = []
    for v in values:
        if isinstance(v, str):
            parts.append('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            parts.append(orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    return ",".join(parts).encode() + b"\n"
