"""Browsing sessions and the item catalogue: layout, determinism, the oracle's replay and scenarios."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tests.simulate.conftest import World, day_index, read

from shopml.simulate.sessions import SESSION_SCHEMA
from shopml.simulate.sessions_oracle import SessionOracle

SMALL = {"days": 12, "customers": 3000}


def _items(r: object) -> pa.Table:
    return pq.read_table(r.out_dir / "items" / "part-0.parquet")  # type: ignore[attr-defined]


def test_sessions_and_items_written(world: World) -> None:
    r = world(**SMALL, seed=3)
    s, items = read(r, "sessions"), _items(r)
    assert s.schema.names == SESSION_SCHEMA.names
    assert r.rows["sessions"] == s.num_rows > 5000 and r.rows["items"] == items.num_rows
    assert set(pc.unique(s["event_type"]).to_pylist()) == {"view", "cart", "purchase"}
    assert set(pc.unique(s["item_id"]).to_pylist()) <= set(items["item_id"].to_pylist())
    assert day_index(s, r).min() == 0 and day_index(s, r).max() == 11
    # purchases are of items carted earlier in the same session
    bought = s.filter(pc.equal(s["event_type"], "purchase"))
    carted = s.filter(pc.equal(s["event_type"], "cart"))
    pairs = set(zip(carted["session_id"].to_pylist(), carted["item_id"].to_pylist(), strict=True))
    assert all(
        p in pairs for p in zip(bought["session_id"].to_pylist(), bought["item_id"].to_pylist(), strict=True)
    )


def test_no_sessions_when_rate_is_zero(world: World) -> None:
    r = world(**SMALL, seed=3, session_rate=0.0)
    assert not (r.out_dir / "sessions").exists() and "sessions" not in r.rows
    with_sessions = world(**SMALL, seed=3)
    assert read(r, "transactions").equals(read(with_sessions, "transactions"))  # other tables unchanged


def test_oracle_replays_the_written_sessions(world: World) -> None:
    r = world(**SMALL, seed=3)
    s = read(r, "sessions").sort_by([("session_id", "ascending"), ("event_time", "ascending")])
    oracle = SessionOracle(r.out_dir)
    ids = np.array([int(x[1:]) for x in s["session_id"].to_pylist()])
    items = np.array([int(x[1:]) for x in s["item_id"].to_pylist()])
    np.testing.assert_array_equal(oracle.events["id"], ids)
    np.testing.assert_array_equal(oracle.events["item"], items)
    ev = oracle.events
    rows = np.flatnonzero((ev["id"][1:] == ev["id"][:-1]) & (ev["item"][1:] != ev["item"][:-1]))[:400]
    p = oracle.scores(ev["id"][rows], ev["pos"][rows], np.arange(oracle.catalog.n))
    total = np.clip(p, 0, None).sum(axis=1)
    assert ((total > 0.1) & (total <= 1 + 1e-5)).all()  # minus the current item's share
    true = p[np.arange(rows.size), ev["item"][rows + 1]]
    assert (true > 0).all()  # every realised next item had positive probability
    ranks = (p >= true[:, None]).sum(axis=1)
    assert np.mean(ranks <= 20) > 0.5


def _share_after(r, column_test) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    s = read(r, "sessions")
    day = day_index(s, r)
    hit = column_test(s)
    onset = r.params.onset or 0
    return float(hit[day < onset].mean()), float(hit[day >= onset].mean())


def test_new_items_and_trend_shift(world: World) -> None:
    r = world(**SMALL, seed=4, scenario="new_items", onset=6)
    items = _items(r)
    launched = dict(
        zip(items["item_id"].to_pylist(), pc.cast(items["launched_at"], "int64").to_pylist(), strict=True)
    )
    onset_us = int(np.datetime64(r.params.start, "us").astype(np.int64)) + 6 * 86_400_000_000
    before, after = _share_after(
        r, lambda s: np.array([launched[i] >= onset_us for i in s["item_id"].to_pylist()])
    )
    assert before == 0.0 and after > 0.15
    r = world(**SMALL, seed=4, scenario="trend_shift", onset=6)
    items = _items(r)
    cat = dict(zip(items["item_id"].to_pylist(), items["category"].to_pylist(), strict=True))
    before, after = _share_after(
        r, lambda s: np.array([cat[i] == "sports" for i in s["item_id"].to_pylist()])
    )
    assert after > 2 * before
    events = json.loads((r.out_dir / "drift_log.json").read_text())["events"]
    assert [e["table"] for e in events] == ["sessions"]
