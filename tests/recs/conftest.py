"""A tiny simulated world with sessions and its protocol split, shared by the recommender tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopml.recs.data import Split, load_events, prepare, split_sessions
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
