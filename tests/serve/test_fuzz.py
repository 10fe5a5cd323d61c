"""Fuzzing the HTTP endpoints: whatever a client sends, the answer is a JSON 2xx/4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import Running

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
FEATURES = ["amount", "hour", "country", "is_new_device", "amount_avg_30d", "event_time", "transaction_id"]


@pytest.fixture(scope="module")
def client(served: Running) -> Any:
    with httpx.Client(base_url=served.url, timeout=10) as c:
        yield c


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # stdlib: also writes integers beyond 64 bits


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500, r.text
    assert r.headers["x-request-id"]
    body = orjson.loads(r.content)
    if r.status_code >= 400:
        assert isinstance(body["error"], str) and body["error"]


@settings(max_examples=120)
@given(body=JSON, path=st.sampled_from(["/v1/models/fraud/predict", "/v2/models/fraud/infer"]))
def test_any_json_body(client: httpx.Client, body: Any, path: str) -> None:
    _check(client.post(path, content=_dumps(body), headers={"content-type": "application/json"}))


@settings(max_examples=80)
@given(raw=st.binary(max_size=200))
def test_any_bytes(client: httpx.Client, raw: bytes) -> None:
    _check(client.post("/v1/models/fraud/predict", content=raw))


@settings(max_examples=150)
@given(data=st.data())
def test_mutated_rows(client: httpx.Client, rows: list[dict[str, Any]], data: st.DataObject) -> None:
    row = dict(rows[data.draw(st.integers(0, len(rows) - 1))])
    for key in data.draw(st.lists(st.sampled_from(FEATURES), max_size=3)):
        action = data.draw(st.sampled_from(["drop", "set"]))
        if action == "drop":
            row.pop(key, None)
        else:
            row[key] = data.draw(JSON)
    if data.draw(st.booleans()):
        row[data.draw(st.text(max_size=8))] = data.draw(JSON_SCALARS)
    r = client.post("/v1/models/fraud/predict", content=_dumps({"instances": [row]}))
    _check(r)


@settings(max_examples=150)
@given(
    tensors=st.lists(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(FEATURES) | st.text(max_size=6),
                "shape": st.lists(st.integers(-1, 3), max_size=3) | JSON,
                "datatype": st.sampled_from(["FP32", "INT64", "BOOL", "BYTES", "UINT8", "FP16", "nope"]),
                "data": st.lists(JSON_SCALARS, max_size=3)
                | st.lists(st.lists(JSON_SCALARS, max_size=2))
                | JSON,
            }
        ),
        max_size=4,
    ),
    version=st.sampled_from(["", "/versions/1", "/versions/2", "/versions/0x1"]),
)
def test_oip_tensors(client: httpx.Client, tensors: list[dict[str, Any]], version: str) -> None:
    _check(client.post(f"/v2/models/fraud{version}/infer", content=_dumps({"inputs": tensors})))


@settings(max_examples=60)
@given(
    path=st.lists(
        st.sampled_from(["v1", "v2", "models", "fraud", "infer", "ready", "versions", "1", "x", ""]),
        max_size=6,
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
)
def test_any_path(client: httpx.Client, path: list[str], method: str) -> None:
    r = client.request(method, "/" + "/".join(path), content=b"{}")
    assert r.status_code < 500 and r.headers["x-request-id"]


def test_still_alive_after_fuzzing(client: httpx.Client) -> None:
    assert client.get("/v2/health/ready").status_code == 200
