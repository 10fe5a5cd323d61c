"""The loop retrains the photo classifier on a drift scenario: photos under normal studio lighting for
two weeks, then darker lighting; the first retrain makes the champion, the second (on the dark photos)
goes through the gate on macro-F1 and is promoted, and the new champion categorises dark photos better."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.config import Workspace
from shopml.errors import DataError, SchemaError

pytest.importorskip("torch")

START = datetime(2026, 2, 2, tzinfo=UTC)
PER_DAY = 60
DAYS, DARK_FROM = 24, 12


def _world(path: Path) -> None:
    """``PER_DAY`` photos a day, one every 24 h / PER_DAY; darker lighting from day ``DARK_FROM``; the
    reviewer's category arrives two hours after each photo."""
    from shopml.images.drift import photo_table
    from shopml.simulate.images import CATEGORIES, render

    rng = np.random.default_rng(11)
    parts = []
    for d in range(DAYS):
        y = rng.integers(0, len(CATEGORIES), PER_DAY)
        x, _ = render(rng, y, gain=0.45 if d >= DARK_FROM else 1.0)
        t0 = np.datetime64((START + timedelta(days=d)).replace(tzinfo=None), "us")
        times = t0 + np.arange(PER_DAY) * np.timedelta64(86_400 // PER_DAY, "s")
        parts.append(
            photo_table(
                x,
                [CATEGORIES[i] for i in y],
                event_time=pa.array(times, pa.timestamp("us", tz="UTC")),
                label_available_at=pa.array(times + np.timedelta64(2, "h"), pa.timestamp("us", tz="UTC")),
            )
        )
    pq.write_table(pa.concat_tables(parts), path)


def _policy(path: Path) -> Any:
    from shopml.loop.policy import LoopPolicy
    from shopml.simulate.images import CATEGORIES

    return LoopPolicy.model_validate(
        {
            "model": "images",
            "task": "images",
            "train_config": {"quick": True, "classes": CATEGORIES, "epochs": 8, "batch": 16, "lr": 3e-3,
                             "baselines": False, "n_resamples": 50, "threads": 1},
            "data": {"path": str(path), "target": "category"},
            "window": {"kind": "sliding", "days": 8, "pending_labels": "drop", "min_rows": 100},
            "gate": {"holdout_days": 3, "label_maturity_days": 0.5, "min_positives": 30, "n_resamples": 200,
                     "mode": "non_inferior", "margin": 0.02},
        }
    )  # fmt: skip


def test_the_loop_retrains_an_image_model_on_darker_lighting(tmp_path: Path) -> None:
    from shopml.images.drift import score_photos, table_photos
    from shopml.loop import Loop
    from shopml.registry import Registry

    path = tmp_path / "photos.parquet"
    _world(path)
    ws = Workspace(tmp_path / "ws").ensure()
    policy = _policy(path)

    first = Loop(ws, policy).retrain("first model", now=START + timedelta(days=DARK_FROM))
    assert [e.kind for e in first] == ["trigger", "retrain", "gate", "promotion"], [e.summary for e in first]
    registry = Registry(ws)
    assert registry.aliases("images")["champion"] == 1
    old = registry.load_bundle("images", "champion")
    assert old.meta.input_type == "image"

    events = Loop(ws, policy).retrain("darker lighting", now=START + timedelta(days=DAYS))
    assert [e.kind for e in events] == ["trigger", "retrain", "gate", "promotion"], [
        e.summary for e in events
    ]
    retrain, gate = events[1], events[2]
    assert isinstance(retrain.evidence["test_macro_f1"], float) and retrain.evidence["train_rows"] >= 200
    report = json.loads(Path(gate.links[0]).read_text())
    assert report["metric"] == "macro_f1" and report["verdict"] == "promote"
    boot = report["bootstrap"]
    assert boot["n"] >= 30 and boot["challenger"] > boot["champion"]  # dark photos: the new model is better
    assert registry.aliases("images")["champion"] == 2

    # on the dark days, the promoted model categorises better than the one it replaced
    table = pq.read_table(path).slice(PER_DAY * (DAYS - 2))
    new = registry.load_bundle("images", "champion")
    truth = np.array([new.meta.model_extra["classes"].index(c) for c in table.column("category").to_pylist()])
    acc = {b.version: float((score_photos(b, table).argmax(1) == truth).mean()) for b in (old, new)}
    assert acc[2] > acc[1], acc
    assert table_photos(table).shape == (2 * PER_DAY, 28, 28)


def test_photo_tables_say_what_is_wrong(tmp_path: Path) -> None:
    from shopml.images.drift import photo_table, table_photos, train_from_table

    x = np.zeros((2, 28, 28), np.uint8)
    table = photo_table(x, ["mug", "ball"])
    assert table_photos(table).shape == (2, 28, 28)
    short = pa.table({"image": pa.array([b"\x00" * 10], pa.binary())})
    with pytest.raises(DataError, match=r"column 'image' row 0: 10 pixels, expected 28×28"):
        table_photos(short)
    with pytest.raises(SchemaError, match=r"photo table lacks column 'image'"):
        table_photos(pa.table({"pixels": [1]}))
    with pytest.raises(DataError, match=r"categories \['hat'\] not in classes \['ball', 'mug'\]"):
        train_from_table(
            photo_table(np.zeros((3, 28, 28), np.uint8), ["mug", "ball", "hat"]),
            "category",
            tmp_path / "bundle",
            "images",
            {"classes": ["ball", "mug"]},
        )
