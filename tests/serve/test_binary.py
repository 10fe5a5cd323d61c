"""The binary tensor data extension on ``/v2/models/{name}/infer``: raw input tensors after a JSON header,
binary outputs on request, and the same checks and messages as the JSON path."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from shopml.serve import tensors

from .conftest import Running

INFER = "/v2/models/fraud/infer"
DTYPES = {"numeric": "FP32", "boolean": "BOOL", "categorical": "BYTES"}


def _tensors(run: Running, rows: list[dict[str, Any]], **dtypes: str) -> list[tuple[str, str, list[Any]]]:
    """(name, datatype, values) per model input and the id/time fields; ``dtypes`` overrides."""
    codec = run.app.repo.get("fraud").codec
    out = [(n, dtypes.get(n, DTYPES[k]), [r[n] for r in rows]) for n, k in codec.kinds.items()]
    out += [(c, "BYTES", [r[c] for r in rows]) for c in (codec.id_column, codec.time_column) if c]
    return out


def _body(
    parts: list[tuple[str, str, list[Any]]], *, json_inputs: tuple[str, ...] = (), **doc: Any
) -> tuple[bytes, int]:
    """A binary-extension body: every input as raw bytes except ``json_inputs``; the header length."""
    inputs, raws = [], []
    for name, dtype, values in parts:
        t: dict[str, Any] = {"name": name, "shape": [len(values), 1], "datatype": dtype}
        if name in json_inputs:
            t["data"] = values
        else:
            raw = tensors.encode(dtype, values)
            t["parameters"] = {"binary_data_size": len(raw)}
            raws.append(raw)
        inputs.append(t)
    head = orjson.dumps({"inputs": inputs, **doc})
    return head + b"".join(raws), len(head)


def _post(run: Running, body: bytes, header: int | str | None) -> httpx.Response:
    headers = {"content-type": "application/octet-stream"}
    if header is not None:
        headers["inference-header-content-length"] = str(header)
    return httpx.post(f"{run.url}{INFER}", content=body, headers=headers)


def _outputs(r: httpx.Response) -> dict[str, np.ndarray]:
    """Per output, its values, whether sent as JSON or as raw bytes."""
    assert r.status_code == 200, r.text
    header = r.headers.get("inference-header-content-length")
    size = int(header) if header is not None else len(r.content)
    doc = orjson.loads(r.content[:size])
    pos, out = size, {}
    for o in doc["outputs"]:
        n = int(np.prod(o["shape"]))
        if "data" in o:
            out[o["name"]] = np.asarray(o["data"])
            continue
        nbytes = o["parameters"]["binary_data_size"]
        out[o["name"]] = np.asarray(tensors.decode(o["datatype"], r.content[pos : pos + nbytes], n))
        pos += nbytes
    assert pos == len(r.content)
    return out


@pytest.fixture(scope="module")
def full(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without nulls (a binary tensor has no null)."""
    return [r for r in rows if r["amount_avg_30d"] is not None][:8]


def test_binary_inputs_and_outputs_score_as_json(served: Running, full: list[dict[str, Any]]) -> None:
    json_r = httpx.post(f"{served.url}/v1/models/fraud/predict", json={"instances": full})
    want = [p["score"] for p in json_r.json()["predictions"]]
    body, size = _body(_tensors(served, full), parameters={"binary_data_output": True})
    r = _post(served, body, size)
    assert r.headers["content-type"] == "application/octet-stream"
    out = _outputs(r)
    np.testing.assert_allclose(out["score"], want, rtol=1e-6)
    assert out["decision"].dtype.kind == "i" and len(out["decision"]) == len(full)
    headers = {"inference-header-content-length": str(size)}
    versioned = httpx.post(f"{served.url}/v2/models/fraud/versions/1/infer", content=body, headers=headers)
    np.testing.assert_allclose(_outputs(versioned)["score"], want, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["FP16", "FP64", "INT32", "INT64", "UINT8", "UINT16", "UINT64", "INT8"])
def test_every_numeric_datatype(served: Running, full: list[dict[str, Any]], dtype: str) -> None:
    rows = [{**r, "hour": float(int(r["hour"])), "txn_count_24h": 2.0} for r in full]
    parts = _tensors(served, rows, hour=dtype, txn_count_24h=dtype, is_new_device="INT8")
    for i, (name, dt, values) in enumerate(parts):
        if dt in tensors.NUMPY and dt.startswith(("INT", "UINT")):
            parts[i] = (name, dt, [int(v) for v in values])
    json_body = orjson.dumps(
        {"inputs": [{"name": n, "shape": [len(v)], "datatype": d, "data": v} for n, d, v in parts]}
    )
    want = _outputs(httpx.post(f"{served.url}{INFER}", content=json_body))
    body, size = _body(parts, outputs=[{"name": "score", "parameters": {"binary_data": True}}])
    got = _outputs(_post(served, body, size))
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-6)


def test_mixed_json_and_binary_inputs_and_outputs(served: Running, full: list[dict[str, Any]]) -> None:
    parts = _tensors(served, full)
    outputs = [{"name": "decision"}, {"name": "score", "parameters": {"binary_data": True}}]
    body, size = _body(parts, json_inputs=("country", "amount"), outputs=outputs)
    r = _post(served, body, size)
    doc = orjson.loads(r.content[: int(r.headers["inference-header-content-length"])])
    assert [o["name"] for o in doc["outputs"]] == ["decision", "score"]
    assert "data" in doc["outputs"][0] and "data" not in doc["outputs"][1]
    assert len(_outputs(r)["score"]) == len(full)
    # binary inputs, JSON answer (an output's own flag beats the request's): no header on the way back
    json_out = [{"name": "score", "parameters": {"binary_data": False}}]
    plain, size = _body(parts, parameters={"binary_data_output": True}, outputs=json_out)
    r = _post(served, plain, size)
    assert "inference-header-content-length" not in r.headers
    assert r.json()["outputs"][0]["name"] == "score"


def _error(r: httpx.Response, status: int, text: str) -> None:
    assert r.status_code == status, r.text
    assert text in r.json()["error"], r.json()


def test_a_binary_schema_error_says_what_json_says(served: Running, full: list[dict[str, Any]]) -> None:
    bad = [{**full[0], "amount": -5.0}]
    json_body = orjson.dumps(
        {"inputs": [{"name": n, "shape": [1], "datatype": d, "data": v} for n, d, v in _tensors(served, bad)]}
    )
    json_r = httpx.post(f"{served.url}{INFER}", content=json_body)
    body, size = _body(_tensors(served, bad))
    r = _post(served, body, size)
    assert r.status_code == json_r.status_code == 422
    assert r.json()["error"] == json_r.json()["error"]
    assert "'amount'" in r.json()["error"]
    body, size = _body(_tensors(served, full[:1], amount="BYTES"))
    _error(_post(served, body, size), 422, "input 'amount' is numeric: datatype must be one of")


def test_sizes_that_do_not_add_up(served: Running, full: list[dict[str, Any]]) -> None:
    parts = _tensors(served, full[:2])
    body, size = _body(parts)
    _error(_post(served, body + b"\0\0", size), 400, "inputs' binary_data_size add up to")
    _error(_post(served, body[:-3], size), 400, "only")
    _error(_post(served, body, len(body) + 1), 400, f"but the body has only {len(body)} bytes")
    _error(_post(served, body, "12abc"), 400, "Inference-Header-Content-Length must be a byte count")
    _error(_post(served, body, None), 400, "request body is not valid JSON")
    # a size that disagrees with the shape and datatype names the input
    doc = orjson.loads(body[:size])
    amount = next(t for t in doc["inputs"] if t["name"] == "amount")
    amount["parameters"]["binary_data_size"] -= 4
    head = orjson.dumps(doc)
    raws = body[size:]
    cut = sum(t["parameters"]["binary_data_size"] for t in doc["inputs"][: doc["inputs"].index(amount)])
    shorter = head + raws[:cut] + raws[cut + 4 :]
    _error(_post(served, shorter, len(head)), 400, "input 'amount': binary data is 4 bytes, but 2 FP32")


def test_malformed_binary_tensors_name_the_input(served: Running, full: list[dict[str, Any]]) -> None:
    one = full[:1]
    body, size = _body(_tensors(served, one))
    doc = orjson.loads(body[:size])
    raws = body[size:]
    # BOOL must be 0 or 1
    flag = next(i for i, t in enumerate(doc["inputs"]) if t["datatype"] == "BOOL")
    offset = sum(t["parameters"]["binary_data_size"] for t in doc["inputs"][:flag])
    bad = raws[:offset] + b"\x02" + raws[offset + 1 :]
    _error(_post(served, body[:size] + bad, size), 400, "BOOL bytes must be 0 or 1, got 2")
    # a BYTES length prefix that runs past its tensor
    cat = next(i for i, t in enumerate(doc["inputs"]) if t["datatype"] == "BYTES")
    name = doc["inputs"][cat]["name"]
    offset = sum(t["parameters"]["binary_data_size"] for t in doc["inputs"][:cat])
    bad = raws[:offset] + b"\xff" + raws[offset + 1 :]
    _error(_post(served, body[:size] + bad, size), 400, f"input '{name}': BYTES element 0 says")
    # both data and binary_data_size
    doc2 = orjson.loads(body[:size])
    doc2["inputs"][0]["data"] = [1.0]
    head = orjson.dumps(doc2)
    _error(_post(served, head + raws, len(head)), 400, "has both 'data' and parameters.binary_data_size")
    doc3 = orjson.loads(body[:size])
    doc3["inputs"][0]["parameters"]["binary_data_size"] = -1
    head = orjson.dumps(doc3)
    _error(_post(served, head + raws, len(head)), 400, "binary_data_size must be a byte count, got -1")
    doc4 = orjson.loads(body[:size])
    doc4["outputs"] = [{"name": "score", "parameters": {"binary_data": "yes"}}]
    head = orjson.dumps(doc4)
    _error(_post(served, head + raws, len(head)), 400, "parameters.binary_data must be true or false")


def test_binary_body_limits(served: Running, full: list[dict[str, Any]]) -> None:
    body, size = _body(_tensors(served, full[:1]))
    limit = served.settings.serve.max_body_bytes
    huge = body + b"\0" * limit
    _error(_post(served, huge, size), 413, "exceeds the limit")
    assert httpx.get(f"{served.url}/v2").json()["extensions"] == ["model_repository", "binary_tensor_data"]
