"""An image model under the monitor: the drift reference written at training, the logged embedding and
photo statistics read against it (clean days quiet, darker lighting caught), review outcomes ingested
with ``shopml labels ingest`` and realised accuracy / macro-F1 with intervals from ``shopml monitor``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopml.config import Settings, Workspace

pytest.importorskip("torch")

START = datetime(2026, 5, 4, tzinfo=UTC)
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


@dataclass(frozen=True)
class Trained:
    ws: Workspace
    photos: Path
    result: Any  # shopml.images.ImagesResult


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from shopml.images import ImagesConfig, train_images
    from shopml.simulate.images import write_images

    root = tmp_path_factory.mktemp("imgdrift")
    photos = root / "photos"
    write_images(photos, per_class=100, seed=5)
    ws = Workspace(root / "ws").ensure()
    cfg = ImagesConfig.make(quick=True, data=photos, baselines=False, epochs=3, n_resamples=50)
    return Trained(ws, photos, train_images(cfg, ws=ws))


def _log(t: Trained, x: np.ndarray, y: np.ndarray, start: datetime, tag: str) -> pa.Table:
    """Score photos ``x`` with the bundle's ONNX graph and log them one per 6 minutes from ``start``, with
    the multiclass columns and the photo columns the server records; returns the review outcomes."""
    from shopml.images.export import onnx_outputs
    from shopml.images.stats import image_stats
    from shopml.kinds import get_kind
    from shopml.logstore.layout import partition_dir, write_part

    bundle = t.result.bundle_dir
    meta = json.loads((bundle / "bundle.json").read_text())
    graph = (bundle / "model.onnx").read_bytes()
    proba, emb = onnx_outputs(graph, x, ["probabilities", "embedding"])  # what the server computes
    head = get_kind("multiclass").head(meta)
    photo = {**image_stats(x), "embedding": emb}
    n = len(y)
    times = np.datetime64(start.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(360, "s")
    ts = pa.array(times, pa.timestamp("us", tz="UTC"))
    ids = [f"{tag}-{i}" for i in range(n)]
    columns = {"score": head.score(proba), **head.log_columns(proba)}
    table = pa.table(
        {
            "request_id": ids,
            "ts": ts,
            "model": ["images"] * n,
            "model_version": pa.array(np.full(n, 1, np.int64)),
            "latency_ms": np.full(n, 1.0),
            **{k: (v.tolist() if np.ndim(v) > 1 else v) for k, v in columns.items()},
            **{k: photo[k] for k in ("brightness", "contrast", "sharpness")},
            "embedding": pa.array(photo["embedding"].tolist(), pa.list_(pa.float32())),
        }
    )
    days = pc.strftime(ts, format="%Y-%m-%d")
    for day in sorted(pc.unique(days).to_pylist()):
        write_part(partition_dir(t.ws.predictions_dir, "images", day), table.filter(pc.equal(days, day)))
    classes = meta["classes"]
    return pa.table(
        {
            "request_id": ids,
            "category": [classes[int(c)] for c in y],  # what the reviewer assigned
            "label_available_at": pa.array(times + np.timedelta64(1, "h"), pa.timestamp("us", tz="UTC")),
        }
    )


def test_reference_sample_is_saved_beside_the_bundle(trained: Trained) -> None:
    from shopml.images.reference import embed
    from shopml.monitor.drift.embedding import load_sample
    from shopml.registry import Registry

    bundle = Registry(trained.ws).load_bundle("images", "champion")
    sample = load_sample(bundle.path)
    assert sample is not None and set(sample) == {"embedding", "brightness", "contrast", "sharpness"}
    run = trained.result.run
    emb = sample["embedding"]
    assert emb.dtype == np.float32 and emb.shape == (run.n_valid, 32)  # width 8 → 4·8 pooled channels
    assert all(sample[k].shape == (run.n_valid,) for k in ("brightness", "contrast", "sharpness"))
    assert np.isfinite(emb).all() and (emb >= 0).all()  # pooled ReLU features
    # the reference is the layer the server logs: the exported graph's embedding output
    from shopml.images.export import onnx_outputs

    x = run.data.test_x[:8]
    (served,) = onnx_outputs((bundle.path / "model.onnx").read_bytes(), x, ["embedding"])
    assert np.allclose(embed(run.serving, x), served, atol=1e-4)


def test_bundle_records_the_predicted_categories_of_the_validation_photos(trained: Trained) -> None:
    """The multiclass kind's output check (chi-square on the logged predicted label) needs the label
    counts the model gave held-out photos: every class named, as many as the validation photos."""
    from shopml.registry import Registry

    bundle = Registry(trained.ws).load_bundle("images", "champion")
    counts = (bundle.meta.model_extra or {})["reference_outputs"]["predicted_label"]
    run = trained.result.run
    assert list(counts) == run.classes and sum(counts.values()) == run.n_valid
    predicted = np.bincount(run.valid_proba.argmax(1), minlength=len(run.classes))
    assert [counts[c] for c in run.classes] == predicted.tolist()


def test_monitor_reads_photo_drift_and_realised_accuracy(trained: Trained, tmp_path: Path) -> None:
    from shopml.cli.main import app
    from shopml.images.idx import load_test_set
    from shopml.monitor import run_monitor

    x, y, _ = load_test_set(trained.photos)
    dark_x, dark_y, _ = load_test_set(trained.photos / "drift" / "dark")
    half = len(y) // 2
    labels = [
        _log(trained, x[:half], y[:half], START, "a"),
        _log(trained, x[half:], y[half:], START + timedelta(days=1), "b"),
        _log(trained, dark_x, dark_y, START + timedelta(days=2), "c"),
    ]
    file = tmp_path / "reviews.parquet"
    pq.write_table(pa.concat_tables(labels), file)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    ws = str(trained.ws.root)
    out = runner.invoke(app, ["labels", "ingest", str(file), "--model", "images", "-w", ws], env=env)
    assert out.exit_code == 0, out.stdout + out.stderr

    # a clean day: the photo checks are quiet
    quiet = run_monitor(trained.ws, "images", "1d", START + timedelta(days=2), settings=SETTINGS, html=False)
    checks = {c.column: c for c in quiet.output_drift}
    assert {"embedding", "brightness", "contrast", "sharpness"} <= set(checks)
    assert checks["embedding"].test == "mmd" and checks["brightness"].test == "ks"
    label = checks["predicted_label"]  # the kind's output check has its reference
    assert (label.test, label.verdict, label.n_reference) == ("chi2", "ok", trained.result.run.n_valid)
    assert not [c for c in quiet.output_drift if c.drifted], [c.to_dict() for c in quiet.output_drift]

    # darker lighting: the embedding test and brightness catch it, and the alert names them
    now = START + timedelta(days=3, hours=2)
    out = runner.invoke(
        app, ["monitor", "--model", "images", "--window", "1d", "--now", now.isoformat(), "-w", ws], env=env
    )
    assert out.exit_code in (0, 1), out.stdout + out.stderr
    result = run_monitor(trained.ws, "images", "1d", now, settings=SETTINGS, html=False, write=False)
    drifted = {c.column: c for c in result.output_drift if c.drifted}
    assert "embedding" in drifted and drifted["embedding"].p_value is not None
    assert drifted["embedding"].p_value < 0.01 and "brightness" in drifted

    # realised accuracy and macro-F1 with intervals from the review outcomes
    matured = [w for w in result.windows if w.realised]
    assert len(matured) >= 2
    for w in matured:
        assert w.realised is not None and {"accuracy", "macro_f1"} <= set(w.realised)
        for name in ("accuracy", "macro_f1"):
            m = w.realised[name]
            assert m.low <= m.value <= m.high and 0 <= m.value <= 1
    assert result.reference["metric"] == "macro_f1" and result.reference["value"] is not None
    # the darker day is the worse one for the model
    assert matured[-1].realised["accuracy"].value < matured[0].realised["accuracy"].value


def test_corruptions_move_what_they_should(trained: Trained) -> None:
    from shopml.errors import ConfigError, SchemaError
    from shopml.images.corrupt import CORRUPTIONS, SEVERITIES, corrupt
    from shopml.images.idx import load_test_set
    from shopml.images.stats import image_stats

    x, _, _ = load_test_set(trained.photos)
    x = x[:64]
    hats, _, _ = load_test_set(trained.photos / "drift" / "new_category")
    before = x.copy()
    base = {k: float(v.mean()) for k, v in image_stats(x).items()}
    moved: dict[str, dict[str, float]] = {}
    for name in CORRUPTIONS:
        out = corrupt(x, name, SEVERITIES[name][2], np.random.default_rng(0), pool=hats)
        assert out.shape == x.shape and out.dtype == np.uint8 and np.array_equal(x, before)
        again = corrupt(x, name, SEVERITIES[name][2], np.random.default_rng(0), pool=hats)
        assert np.array_equal(out, again)  # the generator is the only randomness
        moved[name] = {k: float(v.mean()) for k, v in image_stats(out).items()}
    assert moved["brightness"]["brightness"] < 0.5 * base["brightness"]
    assert moved["blur"]["sharpness"] < 0.5 * base["sharpness"]
    assert moved["noise"]["sharpness"] > 1.5 * base["sharpness"]
    rotated = corrupt(x, "rotation", 40.0, np.random.default_rng(0))
    assert np.mean(rotated != x) > 0.2
    share = corrupt(x, "new_category", 0.5, np.random.default_rng(1), pool=hats)
    assert 0.25 < np.mean((share != x).any(axis=(1, 2))) < 0.75
    with pytest.raises(ConfigError, match="unknown corruption 'fog'"):
        corrupt(x, "fog", 1.0, np.random.default_rng(0))
    with pytest.raises(SchemaError, match=r"photos must be uint8 \[N, H, W\], got float64"):
        corrupt(x.astype(float), "blur", 1.0, np.random.default_rng(0))
    with pytest.raises(SchemaError, match="new_category needs a pool of photos"):
        corrupt(x, "new_category", 0.5, np.random.default_rng(0))
