"""Power and false alarms on the simulator's worlds: the first daily window after onset is flagged on
the features drift_log.json names; the stationary world (with its weekly cycle) is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from shopml.monitor import DriftReport, build_profile, compare

simulate_pkg = pytest.importorskip("shopml.simulate")

ONSET, DAYS = 14, 21


def _world(root: Path, scenario: str, **extra: Any) -> tuple[pa.Table, list[str], list[str]]:
    out = root / f"{scenario}{extra.get('variant', '')}"
    simulate_pkg.simulate(out, days=DAYS, seed=3, scenario=scenario, customers=4000, onset=ONSET, **extra)
    table = ds.dataset(out / "transactions", format="parquet", partitioning="hive").to_table()
    days = sorted(set(table.column("date").to_pylist()))
    log = json.loads((out / "drift_log.json").read_text())
    named = [
        f for e in log["events"] if e.get("table", "transactions") == "transactions" for f in e["features"]
    ]
    return table, days, named


def _window(table: pa.Table, days: list[str], first: int, last: int) -> pa.Table:
    return table.filter(pc.is_in(table.column("date"), value_set=pa.array(days[first:last])))


def _flagged(report: DriftReport) -> set[str]:
    return set(report.drifted_features) | {q.column for q in report.quality if q.column}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worlds")


@pytest.mark.parametrize(
    ("scenario", "extra", "must"),
    [
        ("sudden_covariate", {}, {"country", "currency"}),
        ("new_category", {}, {"merchant_category"}),
        ("data_quality", {"variant": "unit"}, {"amount"}),
        ("data_quality", {"variant": "nulls"}, {"account_age_days"}),
    ],
)
def test_first_window_after_onset_is_flagged(
    root: Path, scenario: str, extra: dict[str, Any], must: set[str]
) -> None:
    table, days, named = _world(root, scenario, **extra)
    schema = simulate_pkg.feature_schema("transactions")
    reference, current = _window(table, days, 0, ONSET), _window(table, days, ONSET, ONSET + 1)
    for ref in (reference, build_profile(reference, schema)):  # raw table (exact tests) and stored profile
        report = compare(ref, current, schema)
        assert report.verdict == "drift", report.reasons
        assert must <= _flagged(report) and must <= set(named)
        # nothing outside the named features (plus their direct consequences for new accounts) is flagged
        assert set(report.drifted_features) <= {*named, "seconds_since_last_txn", "is_new_device"}


def test_stationary_world_with_weekly_cycle_is_quiet(root: Path) -> None:
    table, days, named = _world(root, "none")
    assert named == []
    schema = simulate_pkg.feature_schema("transactions")
    reference = _window(table, days, 0, ONSET)
    profile = build_profile(reference, schema)
    for day in range(ONSET, DAYS):  # a whole week of daily windows: every weekday once
        for ref in (reference, profile):
            report = compare(ref, _window(table, days, day, day + 1), schema)
            assert report.verdict == "ok", (days[day], report.reasons)
            assert "day_of_week" in report.excluded
