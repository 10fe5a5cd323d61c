"""The HTTP API end to end on a real server: scores, ids, errors, metrics, admin, prediction log."""

from __future__ import annotations

import re
from typing import Any

import httpx
import numpy as np
import pytest
from benchmarks.serve_fixture import FixtureModel

from .conftest import TOKEN, Running


def _v2_body(rows: list[dict[str, Any]], kinds: dict[str, str]) -> dict[str, Any]:
    dtypes = {"numeric": "FP64", "boolean": "BOOL", "categorical": "BYTES"}
    inputs = [
        {"name": n, "shape": [len(rows), 1], "datatype": dtypes[k], "data": [r[n] for r in rows]}
        for n, k in kinds.items()
    ]
    return {"id": "abc", "inputs": inputs}


def test_v1_scores_match_pipeline(served: Running, models: dict[int, FixtureModel], rows: list[Any]) -> None:
    r = httpx.post(f"{served.url}/v1/models/fraud/predict", json={"instances": rows})
    assert r.status_code == 200, r.text
    body = r.json()
    scores = np.array([p["score"] for p in body["predictions"]])
    np.testing.assert_allclose(scores, models[1].reference_scores(rows), atol=1e-5)
    assert body["model_version"] == 1
    assert [p["decision"] for p in body["predictions"]] == [int(s >= body["threshold"]) for s in scores]
    rid = r.headers["x-request-id"]
    assert [p["request_id"] for p in body["predictions"]] == [f"{rid}-{i}" for i in range(len(rows))]


def test_v2_infer_matches_v1(served: Running, models: dict[int, FixtureModel], rows: list[Any]) -> None:
    kinds = served.app.repo.get("fraud").codec.kinds
    r = httpx.post(f"{served.url}/v2/models/fraud/infer", json=_v2_body(rows[:5], kinds))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "abc" and body["model_name"] == "fraud" and body["model_version"] == "1"
    score = next(o for o in body["outputs"] if o["name"] == "score")
    assert score["shape"] == [5] and score["datatype"] == "FP32"
    np.testing.assert_allclose(score["data"], models[1].reference_scores(rows[:5]), atol=1e-5)
    versioned = httpx.post(f"{served.url}/v2/models/fraud/versions/1/infer", json=_v2_body(rows[:1], kinds))
    assert versioned.status_code == 200
    gone = httpx.post(f"{served.url}/v2/models/fraud/versions/9/infer", json=_v2_body(rows[:1], kinds))
    assert gone.status_code == 404 and "version 9" in gone.json()["error"]


def test_request_id_echoed_or_generated(served: Running, rows: list[Any]) -> None:
    r = httpx.post(
        f"{served.url}/v1/models/fraud/predict",
        json={"instances": rows[:1]},
        headers={"x-request-id": "req-42"},
    )
    assert r.headers["x-request-id"] == "req-42"
    assert r.json()["predictions"][0]["request_id"] == "req-42"
    ids = {httpx.get(f"{served.url}/v2/health/live").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert httpx.get(f"{served.url}/nope").headers["x-request-id"]


def test_health_metadata_openapi(served: Running) -> None:
    assert httpx.get(f"{served.url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{served.url}/v2/health/ready").status_code == 200
    assert httpx.get(f"{served.url}/v2").json()["name"] == "shopml"
    meta = httpx.get(f"{served.url}/v2/models/fraud").json()
    assert meta["versions"] == ["1"] and {i["name"] for i in meta["inputs"]} >= {"amount", "country"}
    assert httpx.get(f"{served.url}/v2/models/fraud/ready").json()["ready"] is True
    spec = httpx.get(f"{served.url}/openapi.json").json()
    assert {"/v2/models/{name}/infer", "/v1/models/{name}/predict"} <= set(spec["paths"])


def _post(served: Running, path: str, content: bytes | str) -> httpx.Response:
    return httpx.post(f"{served.url}{path}", content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("mutate", "status", "match"),
    [
        (lambda r: r.pop("amount"), 422, "missing feature 'amount'"),
        (lambda r: r.update(colour="red"), 422, r"unexpected fields \['colour'\]"),
        (lambda r: r.update(amount="12,50"), 422, r'amount. must be a number, got "12,50" \(row 0\)'),
        (lambda r: r.update(amount=-3.0), 422, "feature 'amount' must be >= 0, got -3.0"),
        (lambda r: r.update(amount=1e39), 422, "must be a finite number"),
        (lambda r: r.update(hour=None), 422, "feature 'hour' must not be null"),
        (lambda r: r.update(is_new_device="yes"), 422, "must be a boolean"),
        (lambda r: r.update(event_time="yesterday"), 422, "ISO-8601"),
    ],
)
def test_bad_rows_are_422_naming_the_field(
    served: Running, rows: list[Any], mutate: Any, status: int, match: str
) -> None:
    row = dict(rows[0])
    mutate(row)
    r = httpx.post(f"{served.url}/v1/models/fraud/predict", json={"instances": [row]})
    assert r.status_code == status
    assert r.json()["kind"] == "schema"
    assert re.search(match, r.json()["error"]), r.json()


@pytest.mark.parametrize(
    ("path", "body", "status", "match"),
    [
        ("/v1/models/fraud/predict", b"{not json", 400, "not valid JSON"),
        ("/v1/models/fraud/predict", b"", 400, "empty"),
        ("/v1/models/fraud/predict", b"[1, 2]", 400, "must be a JSON object"),
        ("/v1/models/fraud/predict", b'{"instances": {}}', 400, "must be a list"),
        ("/v1/models/fraud/predict", b'{"instances": [], "x": 1}', 400, "unexpected top-level"),
        ("/v1/models/fraud/predict", b'{"instances": [3]}', 422, "row 0 must be an object"),
        ("/v1/models/fraud/predict", b'{"instances": [{"amount": NaN}]}', 400, "not valid JSON"),
        ("/v1/models/nope/predict", b'{"instances": []}', 404, "model 'nope' is not served"),
        ("/v1/models//predict", b'{"instances": []}', 404, "no route POST"),
        ("/v1/models/fraud/x/predict", b'{"instances": []}', 404, "no route POST"),
        ("/v1/models/fraud/predict/", b"{not json", 400, "not valid JSON"),  # the general router
        (
            "/v2/models/fraud/infer",
            b'{"inputs": [{"name": "amount", "shape": [2], "datatype": "FP32", "data": [1.0]}]}',
            400,
            "shape says 2 values",
        ),
        (
            "/v2/models/fraud/infer",
            b'{"inputs": [{"name": "amount", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}]}',
            400,
            "shape must be",
        ),
        (
            "/v2/models/fraud/infer",
            b'{"inputs": [{"name": "amount", "shape": [1], "datatype": "BYTES", "data": ["1"]}]}',
            422,
            "datatype must be one of",
        ),
        (
            "/v2/models/fraud/infer",
            b'{"inputs": [{"name": "amount", "shape": [1], "datatype": "FP32", "data": [1.0]}]}',
            422,
            "missing inputs",
        ),
        (
            "/v2/models/fraud/infer",
            b'{"inputs": [{"name": "hour", "shape": [1], "datatype": "INT64", "data": [1.5]}]}',
            422,
            "datatype INT64 but holds 1.5",
        ),
        ("/v2/models/fraud/versions/x/infer", b"{}", 404, "positive integer"),
    ],
)
def test_bad_bodies(served: Running, path: str, body: bytes, status: int, match: str) -> None:
    r = _post(served, path, body)
    assert r.status_code == status, r.text
    assert match in r.json()["error"]


def test_oversized_body_is_413_and_wrong_method_405(served: Running) -> None:
    r = _post(served, "/v1/models/fraud/predict", b" " * (70 * 1024))
    assert r.status_code == 413 and "exceeds the limit" in r.json()["error"]
    r = httpx.get(f"{served.url}/v1/models/fraud/predict")
    assert r.status_code == 405


def test_unseen_category_is_served_and_counted(
    served: Running, models: dict[int, FixtureModel], rows: list[Any]
) -> None:
    row = dict(rows[0], country="ZZ")
    r = httpx.post(f"{served.url}/v1/models/fraud/predict", json={"instances": [row]})
    assert r.status_code == 200
    ref = models[1].reference_scores([dict(row, country="")])
    assert abs(r.json()["predictions"][0]["score"] - ref[0]) < 1e-5
    text = httpx.get(f"{served.url}/metrics").text
    assert 'shopml_unseen_categories_total{feature="country",model="fraud"}' in text


def test_metrics_count_requests_batches_and_errors(served: Running, rows: list[Any]) -> None:
    httpx.post(f"{served.url}/v1/models/fraud/predict", json={"instances": rows[:2]})
    text = httpx.get(f"{served.url}/metrics").text
    assert (
        'shopml_requests_total{endpoint="v1_predict",model="fraud",protocol="rest",status="200",version="1"}'
        in text
    )
    assert "shopml_request_latency_seconds_bucket" in text
    assert 'shopml_batch_rows_count{model="fraud"}' in text
    assert 'shopml_errors_total{kind="schema"}' in text
    assert "shopml_prediction_log_backlog_rows" in text


def test_admin_needs_token(served: Running) -> None:
    url = f"{served.url}/v2/repository/models/fraud/load"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"authorization": "Bearer wrong"}).status_code == 401
    ok = httpx.post(url, headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["version"] == 1
    missing = httpx.post(
        f"{served.url}/v2/repository/models/nope/load", headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert missing.status_code == 404
