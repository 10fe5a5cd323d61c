"""Multiclass and regression training through ``shopml.train.train``: the same guards as the binary flow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.kinds.conftest import TrainedKind, diabetes_table, kind_config, wine_table

from shopml.config import Workspace
from shopml.errors import ConfigError, DataError, InsufficientDataError
from shopml.kinds import get_kind
from shopml.registry import Registry
from shopml.registry.bundle import ModelBundle
from shopml.train import preset, train
from shopml.train.data import onnx_feeds, to_frame


@pytest.mark.parametrize("fixture", ["trained_multiclass", "trained_regression"])
def test_bundle_records_kind_outputs_metrics_and_parity(fixture: str, request: pytest.FixtureRequest) -> None:
    trained: TrainedKind = request.getfixturevalue(fixture)
    kind = get_kind(trained.kind)
    meta = json.loads((trained.bundle_dir / "bundle.json").read_text())
    assert meta["kind"] == trained.kind and meta["score_output"] == kind.served_output
    assert meta["objective"] == kind.primary_metric
    for m in kind.metrics:
        assert meta["metrics"][f"{m}_low"] <= meta["metrics"][m] <= meta["metrics"][f"{m}_high"]
    scale = 1.0
    if trained.kind == "regression":  # float32 outputs: the tolerance is relative to the value
        scale = float(np.max(np.abs(trained.table.column(trained.config.target).to_numpy())))
    assert meta["parity_max_abs_diff"] <= 1e-5 * scale
    assert meta["diagnosis"]["verdict"] in {"good fit", "overfit", "underfit"}
    assert meta["diagnosis"]["metric"] == f"{kind.primary_metric} skill"
    for name in ("model.onnx", "reference_profile.json", "pipeline.joblib", "report.html"):
        assert (trained.bundle_dir / name).is_file()
    assert kind.primary_metric in (trained.bundle_dir / "report.html").read_text()
    reg = Registry(Workspace(trained.workspace))
    assert reg.aliases(trained.name).get("champion") == 1
    res = trained.result
    assert res.metrics[kind.primary_metric].level == trained.config.level
    assert len(res.search_table) == trained.config.search.n_trials


def test_multiclass_bundle_names_classes_and_serves_labels(trained_multiclass: TrainedKind) -> None:
    import onnxruntime as ort

    meta = json.loads((trained_multiclass.bundle_dir / "bundle.json").read_text())
    assert meta["classes"] == ["barbera", "barolo", "grignolino"]
    assert set(meta["reference_outputs"]["predicted_label"]) <= set(meta["classes"])
    model = trained_multiclass.result.model
    session = ort.InferenceSession(str(trained_multiclass.bundle_dir / "model.onnx"))
    assert [o.name for o in session.get_outputs()] == ["probabilities", "label"]
    bundle = ModelBundle.load(trained_multiclass.bundle_dir)
    kinds = {n: bundle.schema[n].kind for n in model.inputs}
    frame = to_frame(trained_multiclass.table.slice(0, 40), model.inputs, kinds)
    probs, labels = session.run(None, onnx_feeds(frame, model.inputs, kinds))
    assert labels.tolist() == np.asarray(meta["classes"])[np.argmax(probs, axis=1)].tolist()
    np.testing.assert_allclose(probs, model.predict(frame), atol=1e-6)


def test_unknown_kind_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"key 'kind'.*unknown model kind 'multi' \(known: \['binary'"):
        preset("fraud", tmp_path, kind="multi")


def test_regression_target_must_be_numeric(tmp_path: Path) -> None:
    table = diabetes_table()
    table = table.set_column(
        table.column_names.index("progression"), "progression", pa.array(["x"] * len(table))
    )
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(DataError, match=r"target 'progression' must be numeric, got column type string"):
        train(kind_config("regression", tmp_path / "d.parquet"), out_dir=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_a_class_missing_from_the_training_period_is_named(tmp_path: Path) -> None:
    table = wine_table(repeat=1)
    labels = table.column("cultivar").to_pylist()
    n = len(labels)
    labels = ["barolo" if i < int(n * 0.8) and v == "barbera" else v for i, v in enumerate(labels)]
    table = table.set_column(table.column_names.index("cultivar"), "cultivar", pa.array(labels))
    pq.write_table(table, tmp_path / "w.parquet")
    with pytest.raises(
        InsufficientDataError, match=r"classes \['barbera'\] never occur in the training period"
    ):
        train(kind_config("multiclass", tmp_path / "w.parquet"), out_dir=tmp_path / "b")
