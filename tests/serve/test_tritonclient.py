"""Standard clients, unchanged: Triton's Python client over HTTP (its default binary tensors) and gRPC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from benchmarks.serve_fixture import FixtureModel
from tritonclient.utils import InferenceServerException

from .conftest import TOKEN, Running, free_port, make_registry, serve_settings, start_server

NUMPY = {"FP32": np.float32, "BOOL": np.bool_, "BYTES": np.object_}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, models: dict[int, FixtureModel]) -> Iterator[Running]:
    ws = tmp_path_factory.mktemp("triton")
    run = start_server(serve_settings(ws, grpc_port=free_port()), make_registry(ws, models))
    yield run
    run.stop()


@pytest.fixture(scope="module")
def full(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["amount_avg_30d"] is not None][:8]


@pytest.fixture(scope="module", params=["http", "grpc"])
def client(request: pytest.FixtureRequest, server: Running) -> Iterator[Any]:
    """tritonclient's HTTP or gRPC client on the server."""
    if request.param == "http":
        c: Any = thttp.InferenceServerClient(server.url.removeprefix("http://"))
    else:
        c = tgrpc.InferenceServerClient(f"127.0.0.1:{server.app.grpc.port}")
    yield c
    c.close()


def _module(client: Any) -> Any:
    return thttp if isinstance(client, thttp.InferenceServerClient) else tgrpc


def _inputs(client: Any, rows: list[dict[str, Any]], **override: Any) -> list[Any]:
    """One InferInput per model input, id and time field, from the model's own metadata."""
    mod = _module(client)
    meta = client.get_model_metadata("fraud")
    tensors = (
        meta["inputs"]
        if isinstance(meta, dict)
        else [{"name": t.name, "datatype": t.datatype} for t in meta.inputs]
    )
    fields = [{"name": n, "datatype": "BYTES"} for n in ("transaction_id", "event_time")]
    out = []
    for t in [*tensors, *fields]:
        name, dtype = t["name"], t["datatype"]
        values = [override.get(name, r[name]) for r in rows]
        arr = np.array(values, dtype=NUMPY[dtype]).reshape(len(rows), 1)
        inp = mod.InferInput(name, list(arr.shape), dtype)
        inp.set_data_from_numpy(arr)  # binary_data=True: the default
        out.append(inp)
    return out


def test_live_ready_and_metadata(client: Any) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("fraud")
    meta = client.get_model_metadata("fraud")
    names = [t["name"] for t in meta["inputs"]] if isinstance(meta, dict) else [t.name for t in meta.inputs]
    assert "amount" in names and "country" in names
    server_meta = client.get_server_metadata()
    assert (server_meta["name"] if isinstance(server_meta, dict) else server_meta.name) == "shopml"


def test_infer_one_row_and_a_batch(
    client: Any, server: Running, full: list[dict[str, Any]], models: dict[int, FixtureModel]
) -> None:
    want = models[1].reference_scores(full)
    one = client.infer("fraud", _inputs(client, full[:1]))
    assert one.as_numpy("score").shape == (1,)
    np.testing.assert_allclose(one.as_numpy("score"), want[:1], rtol=1e-5)
    batch = client.infer("fraud", _inputs(client, full), request_id="batch-1")
    np.testing.assert_allclose(batch.as_numpy("score"), want, rtol=1e-5)
    threshold = server.app.repo.get("fraud").head.metadata()["threshold"]
    assert batch.as_numpy("decision").tolist() == [int(s >= threshold) for s in batch.as_numpy("score")]
    mod = _module(client)
    only = client.infer("fraud", _inputs(client, full[:2]), outputs=[mod.InferRequestedOutput("decision")])
    assert only.as_numpy("score") is None and only.as_numpy("decision").shape == (2,)


def test_a_bad_input_names_the_input(client: Any, full: list[dict[str, Any]]) -> None:
    with pytest.raises(InferenceServerException, match=r"'amount'.*must be >= 0"):
        client.infer("fraud", _inputs(client, full[:1], amount=-3.0))
    with pytest.raises(InferenceServerException, match="model 'nope'"):
        client.infer("nope", _inputs(client, full[:1]))


def test_repository_calls_with_the_admin_token(client: Any, server: Running) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    with pytest.raises(InferenceServerException, match="bearer token"):
        client.unload_model("fraud")
    client.unload_model("fraud", headers=headers)
    try:
        assert not client.is_model_ready("fraud")
    finally:
        client.load_model("fraud", headers=headers)
    assert client.is_model_ready("fraud")
