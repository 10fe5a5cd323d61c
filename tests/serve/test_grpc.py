"""OIP v2 over gRPC: the same models, checks, messages, log and metrics as REST, on a second port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import duckdb
import grpc
import httpx
import numpy as np
import pytest
from benchmarks.serve_fixture import FixtureModel

from shopml.serve import tensors
from shopml.serve.grpc import oip_pb2 as pb
from shopml.serve.grpc.client import OipClient

from .conftest import TOKEN, Running, free_port, make_registry, serve_settings, start_server

DTYPES = {"numeric": "FP32", "boolean": "BOOL", "categorical": "BYTES"}
FIELDS = {
    "FP32": "fp32_contents",
    "BOOL": "bool_contents",
    "BYTES": "bytes_contents",
    "FP64": "fp64_contents",
}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, models: dict[int, FixtureModel]) -> Iterator[Running]:
    """A server answering REST and gRPC (20 rows per request at most)."""
    ws = tmp_path_factory.mktemp("grpc")
    settings = serve_settings(ws, grpc_port=free_port(), max_rows_per_request=20)
    run = start_server(settings, make_registry(ws, models))
    yield run
    run.stop()


@pytest.fixture(scope="module")
def client(both: Running) -> Iterator[OipClient]:
    c = OipClient(f"127.0.0.1:{both.app.grpc.port}")
    yield c
    c.close()


@pytest.fixture(scope="module")
def full(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["amount_avg_30d"] is not None][:8]


def infer_request(run: Running, rows: list[dict[str, Any]], *, raw: bool = True, **kw: Any) -> Any:
    """A ModelInferRequest with every input (and the id/time fields), raw or as typed contents."""
    codec = run.app.repo.get("fraud").codec
    parts = [(n, DTYPES[k]) for n, k in codec.kinds.items()]
    parts += [(c, "BYTES") for c in (codec.id_column, codec.time_column) if c]
    return build_request(parts, rows, raw=raw, **kw)


def build_request(
    parts: list[tuple[str, str]], rows: list[dict[str, Any]], *, raw: bool = True, **kw: Any
) -> Any:
    """A ModelInferRequest for ``fraud`` with the inputs ``parts`` (name, datatype) of ``rows``."""
    req = pb.ModelInferRequest(model_name="fraud", **kw)
    for name, dtype in parts:
        values = [r[name] for r in rows]
        t = req.inputs.add(name=name, datatype=dtype, shape=[len(values), 1])
        if raw:
            req.raw_input_contents.append(tensors.encode(dtype, values))
        else:
            vals = [v.encode() for v in values] if dtype == "BYTES" else values
            getattr(t.contents, FIELDS[dtype]).extend(vals)
    return req


def outputs(resp: Any) -> dict[str, np.ndarray]:
    return {
        o.name: np.asarray(tensors.decode(o.datatype, raw, int(np.prod(o.shape))))
        for o, raw in zip(resp.outputs, resp.raw_output_contents, strict=True)
    }


def _fails(client: OipClient, method: str, req: Any, code: grpc.StatusCode, text: str, **kw: Any) -> str:
    with pytest.raises(grpc.RpcError) as info:
        client.call(method, req, **kw)
    err: Any = info.value
    assert err.code() == code, err.details()
    assert text in err.details(), err.details()
    return str(err.details())


def test_health_and_metadata(both: Running, client: OipClient) -> None:
    assert client.call("ServerLive", pb.ServerLiveRequest()).live
    assert client.call("ServerReady", pb.ServerReadyRequest()).ready
    assert client.call("ModelReady", pb.ModelReadyRequest(name="fraud")).ready
    meta = client.call("ServerMetadata", pb.ServerMetadataRequest())
    assert meta.name == "shopml" and "binary_tensor_data" in meta.extensions
    m = client.call("ModelMetadata", pb.ModelMetadataRequest(name="fraud"))
    rest = httpx.get(f"{both.url}/v2/models/fraud").json()
    assert m.name == "fraud" and list(m.versions) == rest["versions"]
    assert [(t.name, t.datatype, list(t.shape)) for t in m.inputs] == [
        (t["name"], t["datatype"], t["shape"]) for t in rest["inputs"]
    ]
    assert [t.name for t in m.outputs] == ["score", "decision"]
    _fails(client, "ModelReady", pb.ModelReadyRequest(name="nope"), grpc.StatusCode.NOT_FOUND, "nope")
    _fails(
        client,
        "ModelMetadata",
        pb.ModelMetadataRequest(name="fraud", version="x"),
        grpc.StatusCode.NOT_FOUND,
        "x",
    )


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "contents"])
def test_infer_matches_rest(both: Running, client: OipClient, full: list[dict[str, Any]], raw: bool) -> None:
    want = [
        p["score"]
        for p in httpx.post(f"{both.url}/v1/models/fraud/predict", json={"instances": full}).json()[
            "predictions"
        ]
    ]
    resp = client.call("ModelInfer", infer_request(both, full, raw=raw, id="g-1"))
    assert resp.model_name == "fraud" and resp.model_version == "1" and resp.id == "g-1"
    out = outputs(resp)
    np.testing.assert_allclose(out["score"], want, rtol=1e-6)
    assert out["decision"].tolist() == [int(s >= resp.parameters["threshold"].double_param) for s in want]
    one = client.call("ModelInfer", infer_request(both, full[:1], raw=raw))
    assert outputs(one)["score"].shape == (1,) and one.id  # a generated id


def test_requested_outputs(both: Running, client: OipClient, full: list[dict[str, Any]]) -> None:
    req = infer_request(both, full[:2])
    req.outputs.add(name="decision")
    resp = client.call("ModelInfer", req)
    assert [o.name for o in resp.outputs] == ["decision"]
    req.outputs.add(name="decision")
    _fails(
        client,
        "ModelInfer",
        req,
        grpc.StatusCode.INVALID_ARGUMENT,
        "outputs ['decision'] are requested more than once",
    )


def test_client_errors_carry_the_rest_message(
    both: Running, client: OipClient, full: list[dict[str, Any]]
) -> None:
    bad = [{**full[0], "amount": -5.0}]
    rest = httpx.post(f"{both.url}/v1/models/fraud/predict", json={"instances": bad}).json()["error"]
    msg = _fails(client, "ModelInfer", infer_request(both, bad), grpc.StatusCode.INVALID_ARGUMENT, "'amount'")
    assert msg == rest
    req = infer_request(both, full[:1], raw=False)
    req.inputs[0].datatype = "BYTES"
    name = req.inputs[0].name
    _fails(
        client, "ModelInfer", req, grpc.StatusCode.INVALID_ARGUMENT, f"input '{name}' is numeric: datatype"
    )
    req = infer_request(both, full[:2])
    del req.raw_input_contents[-1]
    _fails(client, "ModelInfer", req, grpc.StatusCode.INVALID_ARGUMENT, "raw_input_contents has")
    req = infer_request(both, full[:2])
    req.raw_input_contents[0] = req.raw_input_contents[0][:-1]
    _fails(
        client, "ModelInfer", req, grpc.StatusCode.INVALID_ARGUMENT, f"input '{name}': binary data is 7 bytes"
    )
    many = (full * 3)[:21]
    _fails(
        client,
        "ModelInfer",
        infer_request(both, many),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "exceed the limit of 20",
    )
    _fails(client, "ModelInfer", pb.ModelInferRequest(model_name="nope"), grpc.StatusCode.NOT_FOUND, "nope")
    _fails(
        client,
        "ModelInfer",
        infer_request(both, full[:1], id="a\nb"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "'id' must be",
    )
    # the server still answers everyone else
    assert client.call("ModelInfer", infer_request(both, full[:1])).outputs


def test_metrics_and_log_count_grpc(both: Running, client: OipClient, full: list[dict[str, Any]]) -> None:
    plog = both.app.plane.plog
    assert plog is not None
    before = plog.written
    client.call("ModelInfer", infer_request(both, full[:3]))
    deadline = time.monotonic() + 10
    while plog.written < before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert plog.written >= before + 3
    # whose clock each row's time is: the client's (checked against the window) or, without one, the server's
    no_time = {k: v for k, v in full[0].items() if k != "event_time"}
    assert httpx.post(f"{both.url}/v1/models/fraud/predict", json={"instances": [no_time]}).status_code == 200
    query = (
        "select time_source, count(*) from read_parquet("
        f"'{both.settings.workspace}/logs/predictions/**/*.parquet', union_by_name=true) group by all"
    )
    logged: dict[str, int] = {}
    while "server" not in logged and time.monotonic() < deadline + 10:
        time.sleep(0.1)
        logged = dict(duckdb.execute(query).fetchall())
    assert logged["server"] == 1 and logged["client"] >= 3
    text = httpx.get(f"{both.url}/metrics").text
    assert 'endpoint="v2_infer",model="fraud",protocol="grpc",status="200",version="1"' in text
    assert 'endpoint="v2_infer",model="fraud",protocol="grpc",status="422",version="1"' in text


def test_repository_calls_need_the_admin_token(
    both: Running, client: OipClient, full: list[dict[str, Any]]
) -> None:
    auth = [("authorization", f"Bearer {TOKEN}")]
    unload = pb.RepositoryModelUnloadRequest(model_name="fraud")
    _fails(client, "RepositoryModelUnload", unload, grpc.StatusCode.UNAUTHENTICATED, "bearer token")
    _fails(
        client,
        "RepositoryModelUnload",
        unload,
        grpc.StatusCode.UNAUTHENTICATED,
        "bearer token",
        metadata=[("authorization", "Bearer wrong")],
    )
    req = infer_request(both, full[:1])
    assert client.call("RepositoryModelUnload", unload, metadata=auth).isUnloaded
    try:
        assert not client.call("ModelReady", pb.ModelReadyRequest(name="fraud")).ready
        _fails(client, "ModelInfer", req, grpc.StatusCode.UNAVAILABLE, "'fraud' was unloaded")
    finally:  # Triton's layout: the model name in field 2
        load = pb.RepositoryModelLoadRequest(triton_model_name="fraud")
        assert client.call("RepositoryModelLoad", load, metadata=auth).isLoaded
    assert client.call("ModelReady", pb.ModelReadyRequest(name="fraud")).ready
    assert client.call("ModelInfer", infer_request(both, full[:1])).outputs
