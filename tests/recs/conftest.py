"""Tiny simulated worlds with sessions shared by the recommender tests: a stationary one with its
protocol split, and a new-items surge with a GRU trained before it (its requests day by day as the
server gets them)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from shopml.recs.bundle import publish_recs
from shopml.recs.data import Split, load_events, prepare, split_sessions
from shopml.recs.gru import GRUParams
from shopml.recs.train import RecsConfig, fit_and_evaluate
from shopml.simulate import simulate


@pytest.fixture(scope="session")
def recs_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten days of 2500 customers' browsing (about 7,000 sessions)."""
    out = tmp_path_factory.mktemp("recs_world")
    simulate(out, days=10, customers=2500, seed=11, session_rate=0.25)
    return out


@pytest.fixture(scope="session")
def recs_split(recs_world: Path) -> Split:
    """The protocol's split of ``recs_world`` (last day: test)."""
    table, by_customer = load_events(recs_world)
    s, ids = prepare(table, by_customer=by_customer)
    return split_sessions(s, ids, test_days=1.0)


TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)
ONSET = 8


@pytest.fixture(scope="session")
def surge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 12-day world whose new-items surge starts on day 8, and a GRU trained on days 0–6."""
    import torch

    torch.set_num_threads(1)
    world = tmp_path_factory.mktemp("surge")
    simulate(world, days=12, customers=2500, seed=5, session_rate=0.25, scenario="new_items", onset=ONSET)
    start = surge_start(world)
    cfg = RecsConfig(
        world,
        test_days=1,
        gru=TINY,
        n_resamples=50,
        refit=False,
        valid_sessions=300,
        parity_sessions=50,
        until=start + timedelta(days=7),
        baselines=False,
    )
    result = publish_recs(cfg, fit_and_evaluate(cfg), ws=None, register=False, out_dir=world / "bundle")
    return world, Path(str(result.bundle_dir))


def surge_start(world: Path) -> Any:
    table, _ = load_events(world)
    first = pc.min(table["event_time"]).as_py()
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def _day_requests(world: Path, day: int) -> list[dict[str, Any]]:
    """Every event of the sessions of ``day`` as a request holding its session so far."""
    table, _ = load_events(world)
    lo = surge_start(world) + timedelta(days=day)
    t = table["event_time"]
    day_events = table.filter(pc.and_(pc.greater_equal(t, lo), pc.less(t, lo + timedelta(days=1))))
    rows = sorted(day_events.to_pylist(), key=lambda r: (r["session_key"], r["event_time"]))
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        same = i > 0 and rows[i - 1]["session_key"] == r["session_key"]
        session = [*out[-1]["session"], r["item_id"]] if same else [r["item_id"]]
        out.append({"session": session, "session_id": r["session_key"]})
    return out


@pytest.fixture
def day_requests() -> Any:
    """``(world, day) →`` every event of the sessions of that day as a request (its session so far)."""
    return _day_requests


@pytest.fixture(name="surge_start")
def surge_start_fixture() -> Any:
    """``world →`` the midnight before its first event."""
    return surge_start
