"""Input codec and wire protocol: conversion, schema errors that name the field, OIP tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from benchmarks.serve_fixture import FixtureModel

from shopml.errors import SchemaError
from shopml.serve import BadRequestError, InputCodec
from shopml.serve.protocol import decode_v1, decode_v2, encode_v2


@pytest.fixture(scope="module")
def codec(models: dict[int, FixtureModel]) -> InputCodec:
    return InputCodec(models[1].bundle)


def test_rows_become_contract_feeds(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    enc = codec.encode_rows([dict(r) for r in rows[:3]])
    assert enc.n == 3 and set(enc.feeds) == set(codec.names)
    assert enc.feeds["amount"].dtype == np.float32 and enc.feeds["amount"].shape == (3, 1)
    assert enc.feeds["country"].dtype == object and enc.feeds["is_new_device"].dtype == np.float32
    assert enc.ids == [r["transaction_id"] for r in rows[:3]]
    assert enc.times is not None and enc.times[0] is not None and enc.times[0].tzinfo is not None
    assert enc.logged["amount"][0] == rows[0]["amount"]


def test_null_nullable_numeric_is_nan(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    enc = codec.encode_rows([dict(rows[0], amount_avg_30d=None)])
    assert np.isnan(enc.feeds["amount_avg_30d"][0, 0]) and np.isnan(enc.logged["amount_avg_30d"][0])


def test_unseen_category_is_unknown_and_counted(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    enc = codec.encode_rows([dict(rows[0], country="ZZ"), dict(rows[1], country="QQ")])
    assert enc.feeds["country"].ravel().tolist() == ["", ""]
    assert enc.unseen == {"country": 2} and enc.logged["country"] == ["ZZ", "QQ"]


def test_every_problem_is_listed_with_its_row(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    bad = [dict(rows[0], amount="x"), {k: v for k, v in rows[1].items() if k != "hour"}]
    with pytest.raises(SchemaError, match=r"feature 'amount' must be a number, got 'x' \(row 0\)") as info:
        codec.encode_rows(bad)
    assert "missing feature 'hour' (row 1)" in info.value.message
    with pytest.raises(SchemaError, match="empty"):
        codec.encode_rows([])


def test_v1_and_v2_decode_to_the_same_cache_key(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    row = {k: rows[0][k] for k in codec.names}
    v1 = decode_v1(orjson.dumps({"instances": [row]}), codec)
    dtypes = {"numeric": "FP32", "categorical": "BYTES", "boolean": "BOOL"}
    inputs = [
        {"name": n, "shape": [1, 1], "datatype": dtypes[k], "data": [[row[n]]]}
        for n, k in codec.kinds.items()
    ]
    v2, rid, outputs = decode_v2(orjson.dumps({"inputs": inputs, "outputs": [{"name": "score"}]}), codec)
    assert v1.cache_key() == v2.cache_key() and rid is None and outputs == ["score"]


def test_v2_errors(codec: InputCodec) -> None:
    with pytest.raises(BadRequestError, match="non-empty list"):
        decode_v2(b'{"inputs": []}', codec)
    t = {"name": "amount", "shape": [1], "datatype": "FP32", "data": [1.0]}
    with pytest.raises(BadRequestError, match="given twice"):
        decode_v2(orjson.dumps({"inputs": [t, t]}), codec)
    with pytest.raises(BadRequestError, match=r"unknown outputs \['label'\]"):
        decode_v2(orjson.dumps({"inputs": [t], "outputs": [{"name": "label"}]}), codec)
    with pytest.raises(SchemaError, match=r"unexpected inputs \['colour'\]"):
        decode_v2(orjson.dumps({"inputs": [{**t, "name": "colour"}]}), codec)


def test_v2_response_shape() -> None:
    body = orjson.loads(
        encode_v2("m", 3, 0.5, "r1", np.array([0.2, 0.7], dtype=np.float32), ["score", "decision"])
    )
    assert body["model_version"] == "3" and body["id"] == "r1"
    assert body["outputs"][1] == {"name": "decision", "shape": [2], "datatype": "INT8", "data": [0, 1]}
