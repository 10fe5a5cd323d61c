"""The simulated texts: layout, determinism, the held-out split, scenarios and their drift log."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from shopml.errors import DataError
from shopml.simulate import simulate
from shopml.simulate.texts import TEXT_TABLES, TextEffects, TextGen
from shopml.simulate.texts_vocab import CATEGORY_VOCAB, NEW_LINE, NEW_SLANG, TITLE_TEMPLATES


def _read(world: Path, kind: str) -> list[dict]:
    return pads.dataset(world / "texts" / kind, partitioning="hive").to_table().to_pylist()


def test_layout_and_manifest(text_world: Path) -> None:
    man = json.loads((text_world / "manifest.json").read_text())
    for kind in TEXT_TABLES:
        parts = sorted((text_world / "texts" / kind).glob("date=*/part-0.parquet"))
        assert len(parts) == 6
        entry = man["tables"][f"texts/{kind}"]
        assert entry["rows"] == 6 * 80 and entry["split_column"] == "split"
    products = _read(text_world, "products")
    assert set(products[0]) >= {"product_id", "event_time", "title", "description", "category", "split"}
    assert {r["category"] for r in products} <= set(CATEGORY_VOCAB)
    reviews = _read(text_world, "reviews")
    assert all(1 <= r["rating"] <= 5 for r in reviews)
    assert len({r["language"] for r in products}) >= 5  # the markets' languages are mixed in


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    kw = {"days": 2, "customers": 100, "session_rate": 0.0, "seed": 9, "texts": 15}
    simulate(tmp_path / "a", **kw)
    simulate(tmp_path / "b", **kw)
    for f in sorted((tmp_path / "a" / "texts").rglob("*.parquet")):
        assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes()
    simulate(tmp_path / "c", **(kw | {"seed": 10}))
    assert _read(tmp_path / "a", "products") != _read(tmp_path / "c", "products")


def test_held_out_templates_and_words_never_in_training(text_world: Path) -> None:
    rows = _read(text_world, "products")
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    assert 0.1 < len(test) / len(rows) < 0.3
    held = {f"title{k}" for k in range(len(TITLE_TEMPLATES) - 2, len(TITLE_TEMPLATES))}
    assert all(r["template"].split("/")[0] in held for r in test)
    assert not any(r["template"].split("/")[0] in held for r in train)
    unseen = {n for v in CATEGORY_VOCAB.values() for n in v.nouns[-2:]}
    text = " ".join((r["title"] + " " + r["description"]).lower() for r in train)
    assert not [n for n in unseen if f" {n} " in f" {text} "]
    test_text = " ".join(r["title"].lower() for r in test)
    assert sum(n in test_text for n in unseen) >= 5  # the test split does use them
    for kind in ("reviews", "queries"):
        r = _read(text_world, kind)
        train_t = {x["template"] for x in r if x["split"] == "train"}
        test_t = {x["template"] for x in r if x["split"] == "test"}
        assert train_t and test_t and not train_t & test_t


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        ("new_category", lambda r: r["category"] == NEW_LINE[0]),
        ("new_slang", lambda r: NEW_SLANG[0] in r["title"]),
        ("language_mix", lambda r: r["language"] == "pl"),
    ],
)
def test_text_scenarios_start_at_onset(tmp_path: Path, scenario: str, check) -> None:
    simulate(tmp_path, days=4, onset=2, customers=100, session_rate=0.0, seed=2, texts=150,
             scenario=scenario, magnitude=0.5)  # fmt: skip
    rows = _read(tmp_path, "products")
    before = [check(r) for r in rows if str(r["date"]) < "2025-03-05"]
    after = [check(r) for r in rows if str(r["date"]) >= "2025-03-05"]
    base = 0.05 if scenario == "language_mix" else 0.0  # Polish is a small market before the shift
    assert sum(before) / len(before) <= base + 0.03
    assert sum(after) / len(after) > base + 0.2
    log = json.loads((tmp_path / "drift_log.json").read_text())
    events = [e for e in log["events"] if e["table"].startswith("texts/")]
    assert events and all(e["start"].startswith("2025-03-05") for e in events)


def test_text_only_scenario_needs_texts(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"language_mix.*texts > 0"):
        simulate(tmp_path, days=2, customers=100, session_rate=0.0, scenario="language_mix")


def test_generator_mixes_languages_and_noise() -> None:
    gen = TextGen(random.Random(1), TextEffects())
    titles = [gen.product(held_out=False)["title"] for _ in range(400)]
    joined = " ".join(titles)
    assert any(w in joined for w in ("schwarz", "noir", "negro", "nero", "czarny", "zwart"))
    assert "blk" in joined or "w/" in joined or " sz " in joined
    assert any(t == t.lower() for t in titles)
