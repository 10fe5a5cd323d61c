"""The event store: round trip, filters, concurrent writers, torn lines."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from shopml.errors import DataError
from shopml.journal.events import Event, EventStore


def _writer(root: str, tag: str, n: int) -> None:
    store = EventStore(Path(root))
    for i in range(n):
        store.append(Event(kind="drift", model=tag, summary=f"{tag}-{i}", evidence={"pad": "x" * 2000}))


def test_round_trip_and_filters(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = store.append(
        Event(
            ts=t0,
            kind="drift",
            model="fraud",
            severity="warning",
            summary="a",
            evidence={"psi": 0.3},
            links=["reports/x.html"],
        )
    )
    store.append(Event(ts=t0 + timedelta(days=1), kind="performance", model="fraud", summary="b"))
    store.append(Event(ts=t0 + timedelta(days=2), kind="drift", model="returns", summary="c"))
    assert store.read()[0] == a
    assert [e.summary for e in store.read(kind="drift")] == ["a", "c"]
    assert [e.summary for e in store.read(kind=["drift", "performance"], model="fraud")] == ["a", "b"]
    assert [e.summary for e in store.read(since=t0 + timedelta(days=1))] == ["b", "c"]
    assert [e.summary for e in store.read(until="2026-01-02T00:00:00+00:00")] == ["a"]
    latest = store.latest(model="fraud")
    assert latest is not None and latest.summary == "b"
    assert EventStore(tmp_path / "empty").read() == []


def test_bad_events_and_filters_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="lowercase name"):
        Event(kind="Drift!", summary="x")
    with pytest.raises(ValidationError, match="timezone-aware"):
        Event(kind="drift", summary="x", ts=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="severity"):
        Event(kind="drift", summary="x", severity="meh")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="since: expected an ISO-8601 time"):
        EventStore(tmp_path).read(since="yesterday")


def test_concurrent_appends_from_two_processes(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), tag, 150)) for tag in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    events = EventStore(tmp_path).read()
    assert len(events) == 300
    for tag in ("p1", "p2"):  # every line whole, each writer's order kept
        assert [e.summary for e in events if e.model == tag] == [f"{tag}-{i}" for i in range(150)]


def test_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    gate = {"version": 2, "verdict": "promote"}
    store.append(Event(kind="gate", model="fraud", summary="first", evidence=gate))
    line = Event(kind="gate", model="fraud", summary="torn", evidence=gate).to_line()
    with store.path.open("ab") as fh:
        fh.write(line[: len(line) // 2])  # a writer crashed mid-line
    assert [e.summary for e in store.read()] == ["first"]
    store.append(Event(kind="promotion", model="fraud", summary="after", evidence={"version": 2}))
    assert [e.summary for e in store.read()] == ["first", "after"]
