"""A text model under the monitor when labels arrive: listings scored as the server scores them (the text
codec, ONNX Runtime, the product id a listing carries), the category a person assigned ingested later
with ``shopml labels ingest`` keyed on the product id, and realised accuracy / macro-F1 with intervals
per window from ``shopml monitor``; the new product line's day is the worse one."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.text.conftest import log_served
from typer.testing import CliRunner

from shopml.config import Settings, Workspace
from shopml.errors import ConfigError, DataError
from shopml.kinds import get_kind
from shopml.simulate.texts import TEST_SHARE, TextEffects, TextGen

pytest.importorskip("transformers")

START = datetime(2026, 5, 4, tzinfo=UTC)
PER_DAY = 160
SETTINGS = Settings.model_validate(
    {
        "performance": {
            "history": 4,
            "min_labelled": 20,
            "min_rows": 20,
            "min_positives": 20,
            "max_pool": 1,
            "n_bootstrap": 100,
            "block": "1h",
        }
    }
)


def shop_categories() -> list[str]:
    """The shop's category list: the catalogue's categories and the new product line's."""
    from shopml.simulate.catalog import NEW_CATEGORY, PRODUCT_CATEGORIES

    return sorted([c.name for c in PRODUCT_CATEGORIES] + [NEW_CATEGORY.name])


def listings(seed: int, n: int, **effects: float) -> tuple[list[str], list[str]]:
    """``n`` listings (title . description, as the model reads them) and their categories, in the
    world's mix: a ``TEST_SHARE`` of them from the templates and words training never sees."""
    g, r = TextGen(random.Random(seed), TextEffects(**effects)), random.Random(seed + 1)
    rows = [g.product(held_out=r.random() < TEST_SHARE) for _ in range(n)]
    return [f"{r['title']} . {r['description']}" for r in rows], [r["category"] for r in rows]


@dataclass(frozen=True)
class Trained:
    ws: Workspace
    bundle: Any  # shopml.registry.ModelBundle, the champion


@pytest.fixture(scope="module")
def trained(text_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A tiny run (the real encoder, one short epoch) registered as ``text``, answering in the shop's
    category list (the new product line's included, before any listing of it)."""
    from shopml.registry import Registry
    from shopml.text import TextConfig, train_text

    ws = Workspace(tmp_path_factory.mktemp("text_monitor")).ensure()
    cfg = TextConfig.make(
        quick=True, data=text_world, max_train=128, max_test=48, max_length=16, batch=16, student_epochs=2,
        speed_rows=2, n_resamples=50, threads=1, baselines=False, classes=shop_categories(),
    )  # fmt: skip
    train_text(cfg, ws=ws, register=True)
    return Trained(ws, Registry(ws).load_bundle("text", "champion"))


def _log(t: Trained, texts: list[str], cats: list[str], start: datetime, tag: str) -> pa.Table:
    """Score listings as the server does (the text codec with each listing's product id, ONNX Runtime,
    the kind's head wrapped by the codec), log them one per 6 minutes from ``start``; return the
    categories a person assigned, keyed on the product id, arriving an hour later."""
    products = [f"pt-{tag}-{i:04d}" for i in range(len(texts))]
    times = np.datetime64(start.replace(tzinfo=None), "us") + np.arange(len(texts)) * np.timedelta64(360, "s")
    log_served(t.ws, t.bundle, texts, times, tag, products)
    arrived = pa.array(times + np.timedelta64(1, "h"), pa.timestamp("us", tz="UTC"))
    return pa.table({"product_id": products, "category": cats, "label_available_at": arrived})


def test_bundle_names_the_product_id_and_the_shop_categories(trained: Trained) -> None:
    meta = trained.bundle.meta
    assert meta.id_column == "product_id" and meta.target == "category"
    assert meta.model_extra["classes"] == shop_categories()


def test_monitor_reads_realised_accuracy_and_the_new_product_line(trained: Trained, tmp_path: Path) -> None:
    from shopml.cli.main import app
    from shopml.monitor import run_monitor

    labels = [
        _log(trained, *listings(11, PER_DAY), START, "a"),
        _log(trained, *listings(12, PER_DAY), START + timedelta(days=1), "b"),
        _log(trained, *listings(13, PER_DAY, new_line_share=0.5), START + timedelta(days=2), "c"),
    ]
    file = tmp_path / "categories.parquet"
    pq.write_table(pa.concat_tables(labels), file)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    ws = str(trained.ws.root)
    out = runner.invoke(app, ["labels", "ingest", str(file), "--model", "text", "-w", ws], env=env)
    assert out.exit_code == 0, out.stdout + out.stderr
    said = " ".join(out.stdout.split())
    assert "keyed on 'product_id'" in said and f"{3 * PER_DAY} of {3 * PER_DAY} matched" in said

    now = START + timedelta(days=3)  # windows are the three days
    config = tmp_path / "shopml.yaml"
    config.write_text(json.dumps({"performance": SETTINGS.performance.model_dump()}))  # JSON is YAML
    args = ["monitor", "--model", "text", "--window", "1d", "--now", now.isoformat(), "-w", ws]
    out = runner.invoke(app, [*args, "--config", str(config)], env=env)
    assert out.exit_code in (0, 1), out.stdout + out.stderr
    said = " ".join(out.stdout.split())
    assert "realised (" in said and "accuracy" in said and "macro_f1" in said, said
    result = run_monitor(trained.ws, "text", "1d", now, settings=SETTINGS, html=False, write=False)

    # realised accuracy and macro-F1 with intervals, per window, from the assigned categories
    matured = [w for w in result.windows if w.realised]
    assert len(matured) == 3, [w.realised for w in result.windows]
    for w in matured:
        assert w.realised is not None and {"accuracy", "macro_f1"} <= set(w.realised)
        for name in ("accuracy", "macro_f1"):
            m = w.realised[name]
            assert 0 <= m.low <= m.value <= m.high <= 1
    assert result.reference["metric"] == "macro_f1" and result.reference["value"] is not None
    # the new product line's day is the worse one: the model answers in its class but never learned it
    acc = [w.realised["accuracy"].value for w in matured]  # type: ignore[index]
    assert acc[2] < min(acc[:2]) - 0.1, acc
    assert matured[2].realised["accuracy"].high < max(acc[:2]), acc  # type: ignore[index]

    # the drift reference is the run's own texts: the ordinary days are quiet, the new line's is not
    quiet = run_monitor(
        trained.ws, "text", "1d", now - timedelta(days=1), settings=SETTINGS, html=False, write=False
    )
    checks = {c.column: c for c in quiet.output_drift}
    assert not checks["text"].drifted and not checks["embedding"].drifted, [
        c.to_dict() for c in checks.values()
    ]
    checks = {c.column: c for c in result.output_drift}
    words = checks["text"]
    assert words.drifted and words.note is not None and checks["embedding"].drifted
    assert {"'pawly'", "'whiskerz'"} & set(words.note.replace(",", " ").split()), words.note


def test_a_served_listing_joins_its_category_on_the_product_id(trained: Trained, tmp_path: Path) -> None:
    """Through a real server: the listing's product id is accepted beside the text and logged, and the
    category assigned later joins on it."""
    import httpx
    from tests.serve.conftest import serve_settings, start_server

    from shopml.logstore import ingest_labels
    from shopml.registry import Registry

    texts, cats = listings(21, 6)
    products = [f"pt-served-{i}" for i in range(len(texts))]
    server = start_server(serve_settings(trained.ws.root), Registry(trained.ws), poll=False)
    try:
        instances = [{"text": x, "product_id": p} for x, p in zip(texts, products, strict=True)]
        r = httpx.post(server.url + "/v1/models/text/predict", json={"instances": instances}, timeout=30)
        assert r.status_code == 200, r.text
        assert [p["label"] for p in r.json()["predictions"]]
        bad = httpx.post(
            server.url + "/v1/models/text/predict", json={"instances": [{"text": "x", "sku": "1"}]}
        )
        assert bad.status_code == 422 and "unexpected fields ['sku']" in bad.json()["error"]
    finally:
        server.stop()  # flushes the prediction log
    labels = pa.table({"product_id": products, "category": cats})
    meta = trained.bundle.meta
    done = ingest_labels(
        trained.ws, "text", labels, label_column="category", id_column=meta.id_column,
        kind=get_kind("multiclass"), meta=meta.model_dump(by_alias=True),
    )  # fmt: skip
    assert done.key_column == "product_id" and done.matched == len(texts)


def test_labels_outside_the_model_classes_are_refused(trained: Trained, tmp_path: Path) -> None:
    from shopml.cli.main import app

    file = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"product_id": ["pt-x"], "category": ["spaceships"]}), file)
    out = CliRunner().invoke(
        app, ["labels", "ingest", str(file), "--model", "text", "-w", str(trained.ws.root)]
    )
    assert out.exit_code != 0
    assert "'spaceships'" in " ".join(out.stderr.split())


def test_class_list_settings_say_what_is_wrong(text_world: Path) -> None:
    from shopml.text import TextConfig, load_texts

    with pytest.raises(ConfigError, match="classes must be at least 2 distinct names"):
        TextConfig(classes=("a", "a"))
    with pytest.raises(ConfigError, match="classes must be a list of class names, got the string"):
        TextConfig(classes="fashion")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"holds classes \[.*'home'.*\] that are not in classes"):
        load_texts(text_world, "category", ["fashion", "electronics"])
    ds = load_texts(text_world, "category", shop_categories())
    assert ds.classes == shop_categories() and ds.id_column == "product_id" and ds.label == "category"
