"""Multiclass and regression models go train → registry → ``shopml serve`` (real server on 127.0.0.1)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.kinds.conftest import TrainedKind
from tests.serve.conftest import Running, serve_settings, start_server

from shopml.config import Workspace
from shopml.registry import Registry
from shopml.registry.bundle import ModelBundle
from shopml.train.data import to_frame


@pytest.fixture(scope="module")
def server(
    trained_multiclass: TrainedKind, trained_regression: TrainedKind, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """One server over a workspace holding both models' registered bundles (each its champion)."""
    ws = tmp_path_factory.mktemp("served") / "ws"
    reg = Registry(Workspace(ws))
    for trained in (trained_multiclass, trained_regression):
        copy = Path(shutil.copytree(trained.bundle_dir, ws.parent / trained.name))
        reg.register(copy, params={}, metrics={}, set_alias="auto")
    run = start_server(serve_settings(ws, event_time_window_s=0), reg)  # historical event times
    yield run
    run.stop()


def _rows(trained: TrainedKind, n: int) -> list[dict[str, Any]]:
    cfg = trained.config
    inputs = trained.result.model.inputs
    out = []
    for r in trained.table.slice(len(trained.table) - n).to_pylist():
        row = {k: r[k] for k in inputs}
        row[cfg.id_column] = r[cfg.id_column]
        row[cfg.time_column] = r[cfg.time_column].isoformat()
        out.append(row)
    return out


def _expected(trained: TrainedKind, rows: list[dict[str, Any]]) -> np.ndarray:
    model = trained.result.model
    bundle = ModelBundle.load(trained.bundle_dir)
    kinds = {n: bundle.schema[n].kind for n in model.inputs}
    table = pa.Table.from_pylist([{k: r[k] for k in model.inputs} for r in rows])
    return np.asarray(model.predict(to_frame(table, model.inputs, kinds)))


def test_multiclass_v1_answers_label_and_probabilities(
    server: Running, trained_multiclass: TrainedKind
) -> None:
    rows = _rows(trained_multiclass, 6)
    r = httpx.post(f"{server.url}/v1/models/wine/predict", json={"instances": rows}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    classes = body["classes"]
    assert classes == ["barbera", "barolo", "grignolino"]
    want = _expected(trained_multiclass, rows)
    for pred, p in zip(body["predictions"], want, strict=True):
        assert list(pred["probabilities"]) == classes
        np.testing.assert_allclose(list(pred["probabilities"].values()), p, atol=1e-6)
        assert pred["label"] == classes[int(np.argmax(p))]
        assert pred["model_version"] == 1 and pred["request_id"]


def test_multiclass_oip_outputs_probabilities_fp32_and_label_bytes(
    server: Running, trained_multiclass: TrainedKind
) -> None:
    rows = _rows(trained_multiclass, 4)
    names = trained_multiclass.result.model.inputs
    meta = httpx.get(f"{server.url}/v2/models/wine", timeout=30).json()
    assert [o["name"] for o in meta["outputs"]] == ["probabilities", "label"]
    assert meta["parameters"]["kind"] == "multiclass"
    dtypes = {i["name"]: i["datatype"] for i in meta["inputs"]}
    body = {
        "inputs": [
            {"name": n, "shape": [len(rows), 1], "datatype": dtypes[n], "data": [r[n] for r in rows]}
            for n in names
        ]
    }
    r = httpx.post(f"{server.url}/v2/models/wine/infer", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    probs, label = out["probabilities"], out["label"]
    assert probs["datatype"] == "FP32" and probs["shape"] == [4, 3]
    assert label["datatype"] == "BYTES" and label["shape"] == [4]
    want = _expected(trained_multiclass, rows)
    np.testing.assert_allclose(np.reshape(probs["data"], (4, 3)), want, atol=1e-6)
    only = httpx.post(
        f"{server.url}/v2/models/wine/infer", json={**body, "outputs": [{"name": "label"}]}, timeout=30
    )
    assert [o["name"] for o in only.json()["outputs"]] == ["label"]
    bad = httpx.post(
        f"{server.url}/v2/models/wine/infer", json={**body, "outputs": [{"name": "score"}]}, timeout=30
    )
    assert bad.status_code == 400 and "score" in bad.json()["error"]


def test_regression_v1_and_oip_answer_value(server: Running, trained_regression: TrainedKind) -> None:
    rows = _rows(trained_regression, 5)
    want = _expected(trained_regression, rows)
    r = httpx.post(f"{server.url}/v1/models/diabetes/predict", json={"instances": rows}, timeout=30)
    assert r.status_code == 200, r.text
    np.testing.assert_allclose([p["value"] for p in r.json()["predictions"]], want, rtol=1e-6)
    names = trained_regression.result.model.inputs
    meta = httpx.get(f"{server.url}/v2/models/diabetes", timeout=30).json()
    dtypes = {i["name"]: i["datatype"] for i in meta["inputs"]}
    body = {
        "inputs": [
            {"name": n, "shape": [len(rows)], "datatype": dtypes[n], "data": [x[n] for x in rows]}
            for n in names
        ]
    }
    out = httpx.post(f"{server.url}/v2/models/diabetes/infer", json=body, timeout=30).json()["outputs"]
    assert [(o["name"], o["datatype"], o["shape"]) for o in out] == [("value", "FP32", [5])]
    np.testing.assert_allclose(out[0]["data"], want, rtol=1e-6)


def test_bad_input_is_422_naming_the_field(server: Running, trained_regression: TrainedKind) -> None:
    row = _rows(trained_regression, 1)[0]
    row["bmi"] = "heavy"
    r = httpx.post(f"{server.url}/v1/models/diabetes/predict", json={"instances": [row]}, timeout=30)
    assert r.status_code == 422
    assert "bmi" in r.json()["error"]


def test_the_prediction_log_records_each_kind_s_outputs(
    server: Running, trained_multiclass: TrainedKind, trained_regression: TrainedKind
) -> None:
    """What the monitor reads: a multiclass model's predicted label and probabilities, a regression
    model's value, beside the features (the joined ``label`` stays free for the labels)."""
    from shopml.logstore import PredictionLog

    wine_rows, diabetes_rows = _rows(trained_multiclass, 3), _rows(trained_regression, 3)
    for name, rows in (("wine", wine_rows), ("diabetes", diabetes_rows)):
        got = httpx.post(
            f"{server.url}/v1/models/{name}/predict",
            json={"instances": rows},
            headers={"x-request-id": f"logged-{name}"},
            timeout=30,
        )
        assert got.status_code == 200, got.text
    ws, ever = server.settings.workspace, (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    deadline = time.monotonic() + 30
    while True:
        wine = PredictionLog(ws, "wine").read(
            *ever, ["request_id", "predicted_label", "probabilities", "score"]
        )
        diabetes = PredictionLog(ws, "diabetes").read(*ever, ["request_id", "value"])
        wine = wine.filter(pc.starts_with(wine.column("request_id"), "logged-wine"))
        diabetes = diabetes.filter(pc.starts_with(diabetes.column("request_id"), "logged-diabetes"))
        if (wine.num_rows == 3 and diabetes.num_rows == 3) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    wine, diabetes = wine.sort_by("request_id"), diabetes.sort_by("request_id")
    want = _expected(trained_multiclass, wine_rows)
    probs = np.asarray(wine.column("probabilities").to_pylist())
    np.testing.assert_allclose(probs, want, atol=1e-6)
    classes = ["barbera", "barolo", "grignolino"]
    assert wine.column("predicted_label").to_pylist() == [classes[int(i)] for i in want.argmax(axis=1)]
    np.testing.assert_allclose(wine.column("score").to_numpy(), want.max(axis=1), atol=1e-6)
    values = diabetes.column("value").to_numpy()
    np.testing.assert_allclose(values, _expected(trained_regression, diabetes_rows), rtol=1e-6)
