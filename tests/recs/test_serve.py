"""The recommender served by ``shopml serve``: a tiny GRU (one epoch on the tiny world) registered as
``recs`` and asked over /v1, OIP v2 (JSON and binary tensors) on a real server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.config import Workspace
from shopml.errors import DataError
from shopml.kinds import get_kind
from shopml.recs.data import Split
from shopml.recs.gru import GRUParams, GRURecommender
from shopml.registry import Registry
from shopml.serve.tensors import decode, encode

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.recs_fixture import LocalServer as Server  # noqa: E402
from benchmarks.recs_fixture import write_recs_bundle  # noqa: E402

TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)
PATH = "/v1/models/recs/predict"


@pytest.fixture(scope="module")
def recs_served(
    recs_split: Split, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Split]]:
    """The tiny GRU trained for one epoch, registered as ``recs`` (champion) and served."""
    import torch

    torch.set_num_threads(1)
    sp = recs_split
    gru = GRURecommender(len(sp.items), TINY, seed=3).fit(sp.train)
    counts = np.bincount(sp.train.item, minlength=len(sp.items))
    popular = [sp.items[i] for i in np.argsort(-counts, kind="stable")[:100]]
    ws = tmp_path_factory.mktemp("recs_ws")
    bundle = write_recs_bundle(ws / "bundle", gru.model_, list(sp.items), popular, k=20)
    reg = Registry(Workspace(ws))
    reg.register(bundle.path, params={}, metrics={})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        grpc_port = int(sock.getsockname()[1])
    server = Server(ws, reg, max_k=50, grpc_port=grpc_port)
    yield server, sp
    server.stop()


def _session(sp: Split, i: int = 0) -> list[str]:
    a, b = int(sp.test.offsets[i]), int(sp.test.offsets[i + 1])
    return [sp.items[j] for j in sp.test.item[a:b].tolist()]


def test_v1_top_k_excludes_seen_and_counts_unknown(recs_served: tuple[Server, Split]) -> None:
    server, sp = recs_served
    s = _session(sp)
    body = {
        "instances": [{"session": s}, {"session": [*s, "no-such-item"]}, {"session": []}],
        "parameters": {"k": 7, "exclude_seen": True},
    }
    r = httpx.post(server.url + PATH, json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["k"] == 7 and got["model_version"] == 1
    first, second, empty = got["predictions"]
    assert len(first["items"]) == 7 and not set(first["items"]) & set(s)
    assert first["scores"] == sorted(first["scores"], reverse=True) and first["source"] == "model"
    assert first["items"] == second["items"] and second["unknown_items"] == ["no-such-item"]
    assert empty["source"] == "popular" and empty["items"] == server.app.repo.models["recs"].codec.popular[:7]
    assert all(p["request_id"] for p in got["predictions"])
    plain = httpx.post(server.url + PATH, json={"instances": [{"session": s}]}).json()["predictions"][0]
    assert len(plain["items"]) == 20 and plain["unknown_items"] == []  # the bundle's K, seen kept
    metrics = httpx.get(server.url + "/metrics").text
    assert 'shopml_unseen_categories_total{feature="session",model="recs"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"instances": [{"session": "i1"}]}, 422, ["instance 0", "'session'", "list of item ids"]),
        ({"instances": [{"session": []}, {"session": [1]}]}, 422, ["instance 1", "element 0"]),
        ({"instances": [{"items": []}]}, 422, ["instance 0", "unexpected fields ['items']"]),
        ({"instances": [{"session": []}], "parameters": {"k": 51}}, 422, ["parameters.k", "1 to 50"]),
        ({"instances": [{"session": []}], "parameters": {"exclude_seen": 1}}, 422, ["exclude_seen"]),
        ({"instances": [], "parameters": {}}, 422, ["'instances' is empty"]),
        ({"instances": [{"session": []}], "extra": 1}, 400, ["unexpected top-level fields"]),
    ],
)
def test_v1_malformed_sessions_are_4xx_naming_the_field(
    recs_served: tuple[Server, Split], body: dict[str, Any], status: int, words: list[str]
) -> None:
    r = httpx.post(recs_served[0].url + PATH, json=body)
    assert r.status_code == status, r.text
    assert all(w in r.json()["error"] for w in words), r.json()


def test_v2_session_tensor_json_and_binary(recs_served: tuple[Server, Split]) -> None:
    server, sp = recs_served
    s0, s1 = _session(sp, 0)[:3], _session(sp, 1)[:1]
    rows = [s0, [*s1, "", ""]]  # [2, 3], right-padded with ""
    meta = httpx.get(server.url + "/v2/models/recs").json()
    assert meta["inputs"][0] == {"name": "session", "datatype": "BYTES", "shape": [-1, -1]}
    assert meta["parameters"]["id_column"] == "session_id"
    assert meta["parameters"]["k_max"] == 50 and "right-padded" in meta["parameters"]["input_layout"]
    tensor = {"name": "session", "shape": [2, 3], "datatype": "BYTES"}
    doc = {"inputs": [{**tensor, "data": [v for r in rows for v in r]}], "parameters": {"k": 5}}
    r = httpx.post(server.url + "/v2/models/recs/infer", json=doc)
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    assert out["items"]["shape"] == [2, 5] and out["scores"]["datatype"] == "FP32"
    v1 = httpx.post(
        server.url + PATH, json={"instances": [{"session": s0}, {"session": s1}], "parameters": {"k": 5}}
    ).json()["predictions"]
    assert out["items"]["data"] == v1[0]["items"] + v1[1]["items"]
    raw = encode("BYTES", [v for r in rows for v in r])
    binary = {**tensor, "parameters": {"binary_data_size": len(raw)}}
    header = orjson.dumps({"inputs": [binary], "parameters": {"k": 5}})
    r = httpx.post(
        server.url + "/v2/models/recs/infer",
        content=header + raw,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert r.status_code == 200, r.text
    assert {o["name"]: o for o in r.json()["outputs"]}["items"]["data"] == out["items"]["data"]
    from shopml.serve.grpc import oip_pb2 as pb
    from shopml.serve.grpc.client import OipClient

    req = pb.ModelInferRequest(model_name="recs")
    req.inputs.add(name="session", datatype="BYTES", shape=[2, 3])
    req.raw_input_contents.append(raw)
    req.parameters["k"].int64_param = 5
    client = OipClient(f"127.0.0.1:{server.app.grpc.port}")
    try:
        resp = client.call("ModelInfer", req)
    finally:
        client.close()
    got = {o.name: (o, r) for o, r in zip(resp.outputs, resp.raw_output_contents, strict=True)}
    assert decode("BYTES", got["items"][1], 10) == out["items"]["data"]
    keyed = {"name": "session_id", "shape": [2], "datatype": "BYTES", "data": ["w1", "w2"]}
    r = httpx.post(server.url + "/v2/models/recs/infer", json={**doc, "inputs": [*doc["inputs"], keyed]})
    assert r.status_code == 200, r.text
    bad = {"inputs": [{**tensor, "shape": [2], "data": ["a", "b"]}]}
    r = httpx.post(server.url + "/v2/models/recs/infer", json=bad)
    assert r.status_code == 400 and "input 'session': shape must be [N, L]" in r.json()["error"]


def test_prediction_log_records_session_top_k_and_unknown(recs_served: tuple[Server, Split]) -> None:
    server, sp = recs_served
    s = [*_session(sp, 2), "ghost"]
    r = httpx.post(server.url + PATH, json={"instances": [{"session": s}], "parameters": {"k": 3}})
    rid = r.json()["predictions"][0]["request_id"]
    deadline = time.monotonic() + 10
    row = None
    while row is None and time.monotonic() < deadline:
        time.sleep(0.3)
        parts = Path(server.workspace).glob("logs/predictions/model=recs/*/*.parquet")
        rows = [x for p in parts for x in pq.read_table(p).to_pylist() if x["request_id"] == rid]
        row = rows[0] if rows else None
    assert row is not None, "the prediction was not logged"
    assert row["session"] == s and row["unknown_items"] == ["ghost"] and len(row["items"]) == 3
    assert row["item"] == row["items"][0] == r.json()["predictions"][0]["items"][0]


def test_next_click_labels_join_the_log_and_ingest(recs_served: tuple[Server, Split], tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from typer.testing import CliRunner

    from shopml.cli.main import app
    from shopml.kinds.ranking_labels import read_next_item_labels

    server, sp = recs_served
    a, b = _session(sp, 3), _session(sp, 4)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = {"session_id": [], "item_id": [], "event_time": []}
    for sid, items in (("web-a", [*a, "i-next"]), ("web-b", b)):
        for j, item in enumerate(items):
            events["session_id"].append(sid)
            events["item_id"].append(item)
            events["event_time"].append(t0 + timedelta(minutes=j))
    sessions = tmp_path / "sessions" / "date=2026-01-01"
    sessions.mkdir(parents=True)
    pq.write_table(pa.table(events), sessions / "part-0.parquet")
    body = {
        "instances": [
            {"session": a[:1], "session_id": "web-a"},  # went on: labelled with a[1]
            {"session": a, "session_id": "web-a"},  # went on to "i-next" (outside the catalogue)
            {"session": b, "session_id": "web-b"},  # ended: no label
            {"session": b},  # no session id: no label
        ]
    }
    r = httpx.post(server.url + PATH, json=body)
    assert r.status_code == 200, r.text
    rids = [p["request_id"] for p in r.json()["predictions"]]
    ws = Path(server.workspace)
    deadline = time.monotonic() + 10
    labels = None
    while time.monotonic() < deadline:
        time.sleep(0.3)
        with contextlib.suppress(DataError):
            labels = read_next_item_labels(ws / "logs" / "predictions", "recs", tmp_path / "sessions")
            if set(rids[:2]) <= set(labels.column("request_id").to_pylist()):
                break
    assert labels is not None
    got = {x["request_id"]: x["next_item"] for x in labels.to_pylist()}
    assert got[rids[0]] == a[1] and got[rids[1]] == "i-next" and rids[2] not in got and rids[3] not in got
    file = tmp_path / "labels.parquet"
    pq.write_table(labels, file)
    out = CliRunner().invoke(app, ["labels", "ingest", str(file), "--model", "recs", "--workspace", str(ws)])
    assert out.exit_code == 0, out.output
    assert f"stored {labels.num_rows} ranking label(s) keyed on 'request_id'" in out.output
    # Realised Recall@K / MRR@K from the log's top-K and the ingested next clicks, with intervals.
    kind = get_kind("ranking")
    meta = server.app.repo.models["recs"].bundle.meta.model_dump(by_alias=True)
    log = pq.read_table(ws / "logs" / "predictions" / "model=recs").to_pylist()
    logged = {x["request_id"]: x for x in log}
    rows = [logged[rid] for rid in labels.column("request_id").to_pylist()]
    y = kind.check_labels(labels.column("next_item").to_pylist(), meta)
    pred = kind.logged_ranking([x["items"] for x in rows], meta)
    taken = labels.column("next_item").to_pylist()
    want = np.mean([lab in x["items"] for lab, x in zip(taken, rows, strict=True)])
    got_iv = kind.intervals(y, pred, k=20, n_resamples=100)
    assert got_iv["recall_at_k"].value == pytest.approx(want)
    assert got_iv["recall_at_k"].low <= got_iv["recall_at_k"].value <= got_iv["recall_at_k"].high
    assert got_iv["mrr_at_k"].value <= got_iv["recall_at_k"].value


def test_monitor_reports_realised_recall_from_next_clicks(
    recs_served: tuple[Server, Split], tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from typer.testing import CliRunner

    from shopml.cli.main import app
    from shopml.kinds.ranking_labels import next_item_labels

    served, sp = recs_served
    ws = tmp_path / "ws"  # a workspace of its own: only these predictions in the window
    reg = Registry(Workspace(ws))
    reg.register(served.app.repo.models["recs"].bundle.path, params={}, metrics={})
    server = Server(ws, reg)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events: dict[str, list[Any]] = {"session_id": [], "item_id": [], "event_time": []}
    instances = []
    for i in range(min(240, sp.test.n_sessions)):
        items = _session(sp, i)
        sid = f"mon-{i}"
        for j, item in enumerate(items):
            events["session_id"].append(sid)
            events["item_id"].append(item)
            events["event_time"].append(t0 + timedelta(minutes=j))
        instances.append({"session": items[: len(items) - 1], "session_id": sid})
    rids: list[str] = []
    for lo in range(0, len(instances), 60):
        r = httpx.post(server.url + PATH, json={"instances": instances[lo : lo + 60]})
        rids += [p["request_id"] for p in r.json()["predictions"]]
    server.stop()  # the log is flushed
    deadline = time.monotonic() + 10
    labels = pa.table({"request_id": pa.array([], pa.string())})
    while labels.num_rows < len(rids) and time.monotonic() < deadline:
        time.sleep(0.3)
        log = pq.read_table(ws / "logs" / "predictions" / "model=recs")
        labels = next_item_labels(
            log.filter(pa.compute.is_in(log["request_id"], pa.array(rids))), pa.table(events)
        )
    assert labels.num_rows == len(rids)
    file = tmp_path / "labels.parquet"
    pq.write_table(labels, file)
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["labels", "ingest", str(file), "--model", "recs", "--workspace", str(ws)]
        ).exit_code
        == 0
    )
    out = runner.invoke(app, ["monitor", "--model", "recs", "--workspace", str(ws)])
    assert out.exit_code == 0 and "240 prediction(s)" in out.output, out.output
    from shopml.monitor.job import run_monitor

    realised = run_monitor(ws, "recs", "1d", None, html=False).windows[-1].realised
    assert realised is not None, "no realised metrics in the latest window"
    log = {x["request_id"]: x for x in pq.read_table(ws / "logs" / "predictions" / "model=recs").to_pylist()}
    taken = dict(zip(labels["request_id"].to_pylist(), labels["next_item"].to_pylist(), strict=True))
    want = np.mean([taken[r] in log[r]["items"] for r in rids])
    recall = realised["recall_at_k"]
    assert recall.value == pytest.approx(want) and recall.low <= want <= recall.high
    assert 0 <= realised["mrr_at_k"].value <= recall.value
