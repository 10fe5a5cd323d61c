"""The loop retrains the text classifier on the new-product-line scenario: the simulator's listings
(title and description, the category a person assigned two hours later) as a text table; the first
retrain, before the new line, makes the champion; after pet supplies took a share of the listings, a
loop pass runs the monitor over the champion's served listings, its drift warning fires the trigger,
and the challenger, trained on the new line too, passes the gate on macro-F1 and is promoted; the new
champion categorises the new line's listings better. Bad text tables say which column is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from tests.text.conftest import log_served

from shopml.config import Workspace
from shopml.errors import DataError, SchemaError

pytest.importorskip("transformers")

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS, ONSET, PER_DAY = 14, 7, 45
NEW_LINE = "pet_supplies"


def shop_categories() -> list[str]:
    """The shop's category list: the catalogue's categories and the new product line's."""
    from shopml.simulate.catalog import NEW_CATEGORY, PRODUCT_CATEGORIES

    return sorted([c.name for c in PRODUCT_CATEGORIES] + [NEW_CATEGORY.name])


def _world(root: Path) -> Path:
    """``PER_DAY`` listings a day with the new product line (40 % of listings) from day ``ONSET``, as a
    text table; the category arrives two hours after the listing."""
    from shopml.simulate import simulate
    from shopml.text.table import text_table

    world = root / "world"
    simulate(world, days=DAYS, customers=100, session_rate=0.0, seed=3, texts=PER_DAY,
             scenario="new_category", onset=ONSET, magnitude=0.4, start=START.date().isoformat())  # fmt: skip
    t = pads.dataset(world / "texts" / "products", partitioning="hive").to_table().sort_by("event_time")
    texts = [f"{a} . {b}" for a, b in zip(t["title"].to_pylist(), t["description"].to_pylist(), strict=True)]
    times = t.column("event_time").cast(pa.timestamp("us", tz="UTC"))
    arrived = pc.add(times, pa.scalar(timedelta(hours=2), pa.duration("us")))
    table = text_table(
        texts,
        t["category"].to_pylist(),
        product_id=t["product_id"],
        event_time=times,
        label_available_at=arrived,
    )
    path = root / "listings.parquet"
    pq.write_table(table, path)
    return path


def _policy(path: Path, **train: Any) -> Any:
    from shopml.loop.policy import LoopPolicy

    return LoopPolicy.model_validate(
        {
            "model": "text",
            "task": "text",
            "train_config": {"quick": True, "classes": shop_categories(), "max_length": 16, "batch": 16,
                             "student_epochs": 2, "baselines": False, "speed_rows": 2, "n_resamples": 50,
                             "threads": 1, **train},
            "data": {"path": str(path), "target": "category"},
            "window": {"kind": "sliding", "days": 6, "pending_labels": "drop", "min_rows": 100},
            "gate": {"holdout_days": 2, "label_maturity_days": 0.5, "min_positives": 30, "n_resamples": 200,
                     "mode": "non_inferior", "margin": 0.02},
        }
    )  # fmt: skip


def test_the_loop_retrains_the_text_model_on_a_new_product_line(tmp_path: Path) -> None:
    from shopml.loop import Loop
    from shopml.loop.policy import MonitorPolicy
    from shopml.registry import Registry
    from shopml.text.table import score_texts, table_texts

    path = _world(tmp_path)
    ws = Workspace(tmp_path / "ws").ensure()
    policy = _policy(path)

    first = Loop(ws, policy).retrain("first model", now=START + timedelta(days=ONSET))
    assert [e.kind for e in first] == ["trigger", "retrain", "gate", "promotion"], [e.summary for e in first]
    registry = Registry(ws)
    assert registry.aliases("text")["champion"] == 1
    old = registry.load_bundle("text", "champion")
    assert old.meta.input_type == "text" and old.meta.id_column == "product_id"
    assert old.meta.model_extra["classes"] == shop_categories()

    # the champion serves the last day's listings; a loop pass runs the monitor, whose drift warning on
    # the new line's words and embeddings fires the drift trigger: retrain, gate, promotion
    now = START + timedelta(days=DAYS)
    day = pq.read_table(path).filter(pc.field("event_time") >= pa.scalar(now - timedelta(days=1)))
    times = day.column("event_time").to_numpy().astype("datetime64[us]")
    log_served(ws, old, table_texts(day), times, "served", day.column("product_id").to_pylist())
    watched = policy.model_copy(update={"monitor": MonitorPolicy(enabled=True, window="1d")})
    events = Loop(ws, watched).step(now)
    kinds = [e.kind for e in events]
    assert kinds[-4:] == ["trigger", "retrain", "gate", "promotion"] and "drift" in kinds, [
        e.summary for e in events
    ]
    trigger, retrain, gate = events[-4], events[-3], events[-2]
    assert trigger.evidence["reasons"] == ["drift"], trigger.summary
    assert isinstance(retrain.evidence["test_macro_f1"], float) and retrain.evidence["train_rows"] >= 150
    report = json.loads(Path(gate.links[0]).read_text())
    assert report["metric"] == "macro_f1" and report["verdict"] == "promote"
    boot = report["bootstrap"]
    assert boot["n"] >= 30 and boot["challenger"] > boot["champion"]
    assert registry.aliases("text")["champion"] == 2

    # on the new line's listings of the last two days, the promoted model categorises better
    table = pq.read_table(path).filter(
        pc.greater_equal(pc.field("event_time"), pa.scalar(START + timedelta(days=DAYS - 2)))
    )
    pets = table.filter(pc.equal(table["category"], NEW_LINE))
    new = registry.load_bundle("text", "champion")
    acc = {}
    for b in (old, new):
        truth = np.array([b.meta.model_extra["classes"].index(c) for c in pets["category"].to_pylist()])
        acc[b.version] = float((score_texts(b, pets).argmax(1) == truth).mean())
    assert pets.num_rows >= 20 and acc[2] > acc[1] + 0.3, acc


def test_text_tables_say_what_is_wrong(tmp_path: Path) -> None:
    from shopml.text.table import table_texts, text_table, train_from_table

    with pytest.raises(SchemaError, match=r"text table lacks column 'text' \(have \['title', 'category'\]\)"):
        table_texts(pa.table({"title": ["red dress"], "category": ["clothing"]}))
    with pytest.raises(SchemaError, match="text table column 'text' must hold strings, got int64"):
        table_texts(pa.table({"text": [3, 4]}))
    with pytest.raises(DataError, match=r"text table column 'text' row 1: missing or empty text \(' '\)"):
        table_texts(text_table(["red dress", " "], ["clothing", "clothing"]))
    with pytest.raises(SchemaError, match="text table lacks the target column 'category'"):
        train_from_table(pa.table({"text": ["a", "b"]}), "category", tmp_path / "b", "text", {})
    with pytest.raises(SchemaError, match="text table column 'category' must hold class names, got double"):
        train_from_table(
            pa.table({"text": ["a", "b"], "category": [1.5, 2.5]}), "category", tmp_path, "t", {}
        )
    with pytest.raises(
        DataError, match=r"holds classes \['hats'\] that are not in classes \['books', 'toys'\]"
    ):
        train_from_table(
            text_table(["a", "b", "c"], ["toys", "books", "hats"]), "category", tmp_path, "t",
            {"classes": ["books", "toys"]},
        )  # fmt: skip


def test_a_bad_text_table_fails_the_retrain_naming_the_column(tmp_path: Path) -> None:
    from shopml.loop import Loop

    n = 480
    times = np.datetime64(START.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(30, "m")
    ts = pa.array(times, pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {"title": ["red dress"] * n, "category": ["clothing", "toys"] * (n // 2), "event_time": ts,
         "label_available_at": ts}
    )  # fmt: skip
    path = tmp_path / "listings.parquet"
    pq.write_table(table, path)
    ws = Workspace(tmp_path / "ws").ensure()
    events = Loop(ws, _policy(path)).retrain("bad table", now=START + timedelta(days=10))
    failed = events[-1]
    assert failed.kind == "retrain" and "retrain failed" in failed.summary
    assert "text table lacks column 'text'" in failed.summary, failed.summary
