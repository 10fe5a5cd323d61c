"""Files, ids, labels and determinism of a simulated world."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from tests.simulate.conftest import World, read

from shopml.errors import ConfigError
from shopml.schema import Schema
from shopml.simulate import SCENARIOS, SimulationParams, feature_schema, simulate

SMALL = {"days": 21, "customers": 3000, "seed": 5}


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_and_params_give_byte_identical_files(tmp_path: Path) -> None:
    kw = {"days": 6, "customers": 800, "seed": 11, "scenario": "data_quality", "onset": 3}
    a = simulate(tmp_path / "a", **kw)
    b = simulate(tmp_path / "b", **kw)
    c = simulate(tmp_path / "c", **{**kw, "seed": 12})
    ha, hb, hc = _hashes(a.out_dir), _hashes(b.out_dir), _hashes(c.out_dir)
    assert len(ha) > 10
    assert ha == hb
    assert (
        ha["transactions/date=2025-03-03/part-0.parquet"] != hc["transactions/date=2025-03-03/part-0.parquet"]
    )


def test_layout_manifest_and_schema(world: World) -> None:
    r = world(**SMALL)
    out = Path(r.out_dir)
    for table in ("transactions", "orders", "labels/fraud", "labels/returns"):
        assert (out / table / "date=2025-03-03" / "part-0.parquet").exists() or table.startswith("labels")
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 5 and man["params"]["days"] == 21
    assert man["tables"]["transactions"]["rows"] == r.rows["transactions"] == read(r, "transactions").num_rows
    assert Schema.from_dict(man["tables"]["transactions"]["schema"]) == feature_schema("transactions")
    tx = read(r, "transactions")
    assert tx.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    assert tx.schema.field("is_fraud").type == pa.int8()
    inputs = {f.name for f in feature_schema("transactions").input_features}
    assert "fraud_pattern" not in inputs and "label_available_at" not in inputs and "is_fraud" not in inputs
    assert 10 <= len(inputs) <= 20


def test_ids_are_unique(world: World) -> None:
    r = world(**SMALL)
    for table, col in (("transactions", "transaction_id"), ("orders", "order_id")):
        ids = read(r, table)[col]
        assert pc.count_distinct(ids).as_py() == len(ids) > 0


@pytest.mark.parametrize(
    ("table", "key", "label"),
    [
        ("transactions", "transaction_id", "is_fraud"),
        ("orders", "order_id", "is_high_value_return"),
    ],
)
def test_labels_arrive_after_the_event_and_match_the_feed(
    world: World, table: str, key: str, label: str
) -> None:
    r = world(**SMALL)
    main = read(r, table).sort_by(key)
    feed_name = "labels/fraud" if table == "transactions" else "labels/returns"
    feed = read(r, feed_name)
    assert pc.count_distinct(feed[key]).as_py() == feed.num_rows == main.num_rows  # one label row each
    feed = feed.sort_by(key)
    assert feed[key].equals(main[key])
    assert feed[label].equals(main[label])
    assert feed["label_available_at"].equals(main["label_available_at"])
    ev = pc.cast(main["event_time"], pa.int64()).to_numpy()
    av = pc.cast(main["label_available_at"], pa.int64()).to_numpy()
    delay_days = (av - ev) / 86_400e6
    assert (delay_days >= 1.0 - 1e-9).all()  # never before (or at) the event
    pos = main[label].to_numpy() == 1
    if table == "orders":
        assert (delay_days <= 30).all()
    else:
        assert np.allclose(delay_days[~pos], 14.0)
        assert 5 < np.median(delay_days[pos]) < 20  # chargebacks: days to weeks
    # the feed is partitioned by the day the label arrives
    raw = ds.dataset(Path(r.out_dir) / feed_name, format="parquet", partitioning="hive").to_table()
    arrived = pc.strftime(raw["label_available_at"], format="%Y-%m-%d")
    assert pc.all(pc.equal(pc.cast(raw["date"], pa.string()), arrived)).as_py()


def test_history_features_are_consistent(world: World) -> None:
    tx = read(world(**SMALL), "transactions")
    since = tx["seconds_since_last_txn"].to_numpy(zero_copy_only=False)
    n24 = tx["txn_count_24h"].to_numpy()
    assert (np.nan_to_num(since, nan=1e12)[n24 > 0] < 86_400).all()
    assert (n24 >= 0).all() and tx["amount_avg_30d"].null_count < 0.2 * tx.num_rows


def test_invalid_parameters_name_the_field() -> None:
    with pytest.raises(ConfigError, match="unknown scenario 'nope'; valid: none, sudden_covariate"):
        SimulationParams.build(scenario="nope")
    with pytest.raises(ConfigError, match=r"days.*greater than or equal to 1"):
        SimulationParams.build(days=0)
    with pytest.raises(ConfigError, match="onset day 9 must be before the last day"):
        SimulationParams.build(days=5, onset=9, scenario="seasonal")
    assert set(SCENARIOS) >= {"none", "sudden_covariate", "gradual_concept", "seasonal", "new_category"}
    assert SimulationParams.build(start=date(2024, 1, 1)).start == date(2024, 1, 1)
