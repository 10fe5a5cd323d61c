"""Labels of a ranking model from the clickstream: the next event of each recommended-for session.

A served recommendation logs the session it answered (``session_id``, the client's key, and
``session_length``, the events it was sent). Its label is the item of the session's next event — event
number ``session_length`` (0-based) of that session in the ``sessions/`` table, in event-time order —
available from that event's time. A session that ended there has no next item: once ``gap`` has passed
after its last event (the sessions' own definition of an end) *and* the table reaches that far, its
label is null, available from the last event plus ``gap`` — the ranking kind counts such a request as
resolved without a label (out of the metrics and of the maturity count), so a window of real traffic,
where every session's last request goes unanswered, still matures. A session whose end the table does
not reach yet gets no row: a later run labels it. The result is a label table for
``shopml labels ingest`` (keyed on ``request_id``).

>>> import pyarrow as pa
>>> from datetime import datetime, UTC
>>> t = [datetime(2026, 1, 1, 0, m, tzinfo=UTC) for m in range(3)]
>>> ev = pa.table({"session_id": ["s", "s", "s"], "item_id": ["a", "b", "c"], "event_time": t})
>>> log = pa.table({"request_id": ["r1", "r2"], "session_id": ["s", "s"], "session_length": [1.0, 3.0]})
>>> next_item_labels(log, ev).to_pylist()[0]["next_item"]
'b'
>>> later = [datetime(2026, 1, 1, 3, tzinfo=UTC)]  # another session, 3 h on: session s has ended
>>> more = pa.concat_tables([ev, pa.table({"session_id": ["z"], "item_id": ["a"], "event_time": later})])
>>> [r["next_item"] for r in next_item_labels(log, more).to_pylist()]
['b', None]
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import DataError

__all__ = ["SESSION_GAP", "next_item_labels", "read_next_item_labels"]

_LOG = ("request_id", "session_id", "session_length")
_EVENTS = ("session_id", "item_id", "event_time")
#: A session has ended when this long has passed after its last event (the recommender's protocol).
SESSION_GAP = timedelta(hours=1)


def _need(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DataError(f"{what}: missing columns {missing} (got {table.column_names})")


def next_item_labels(
    predictions: pa.Table, events: pa.Table, *, target: str = "next_item", gap: timedelta = SESSION_GAP
) -> pa.Table:
    """``request_id``, ``target`` (the next item; null: the session ended) and ``label_available_at``
    for every logged recommendation whose session went on or has ended (``gap`` after its last event,
    within the events' time span); rows without a session id, or whose session may still go on, are
    left out."""
    _need(predictions, _LOG, "prediction log")
    _need(events, _EVENTS, "sessions table")
    if gap <= timedelta(0):
        raise DataError(f"gap must be positive, got {gap}")
    ev = events.select(list(_EVENTS)).sort_by([("session_id", "ascending"), ("event_time", "ascending")])
    sid = ev.column("session_id").to_numpy(zero_copy_only=False).astype(str)
    ids, starts, counts = np.unique(sid, return_index=True, return_counts=True)
    where = {s: (int(a), int(c)) for s, a, c in zip(ids.tolist(), starts, counts, strict=True)}
    items = ev.column("item_id").combine_chunks()
    times = ev.column("event_time").combine_chunks()
    horizon = pc.max(times).as_py() if len(times) else None
    rids: list[str] = []
    rows: list[int] = []
    ended: list[str] = []
    ended_at: list[object] = []
    logged = predictions.select(list(_LOG)).to_pylist()
    for r in logged:
        key, length = r["session_id"], r["session_length"]
        if key is None or length is None or key not in where:
            continue
        start, count = where[key]
        if int(length) < count:
            rids.append(r["request_id"])
            rows.append(start + int(length))
            continue
        last = times[start + count - 1].as_py()
        if horizon is not None and last + gap <= horizon:
            ended.append(r["request_id"])
            ended_at.append(last + gap)
    take = pa.array(rows, pa.int64())
    at = times.take(take)
    return pa.table(
        {
            "request_id": pa.array(rids + ended, pa.string()),
            target: pa.concat_arrays([items.take(take).cast(pa.string()), pa.nulls(len(ended), pa.string())]),
            "label_available_at": pa.concat_arrays([at, pa.array(ended_at, at.type)]),
        }
    )


def read_next_item_labels(
    predictions_dir: Path, model: str, sessions_dir: Path, *, target: str = "next_item"
) -> pa.Table:
    """:func:`next_item_labels` of ``model``'s prediction log (a workspace's ``logs/predictions``) and
    a ``sessions/`` folder (Parquet, partitioned by day)."""
    import pyarrow.dataset as ds

    from shopml.logstore.layout import model_dir

    log_dir = model_dir(predictions_dir, model)
    if not any(log_dir.rglob("*.parquet")):
        raise DataError(f"no logged predictions of model '{model}' under {predictions_dir}")
    if not any(Path(sessions_dir).rglob("*.parquet")):
        raise DataError(f"no sessions at {sessions_dir} (expected Parquet files of session events)")
    log = ds.dataset(log_dir, format="parquet", partitioning="hive")
    if "session_id" not in log.schema.names:
        raise DataError(f"model '{model}' logs no session_id: send one with each session to label it")
    predictions = log.to_table(columns=list(_LOG))
    events = ds.dataset(sessions_dir, format="parquet", partitioning="hive").to_table(columns=list(_EVENTS))
    return next_item_labels(predictions, events, target=target)
