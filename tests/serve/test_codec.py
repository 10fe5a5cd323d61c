"""Input codec and wire protocol: conversion, schema errors that name the field, OIP tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from benchmarks.serve_fixture import FixtureModel

from shopml.errors import SchemaError
from shopml.serve import BadRequestError, InputCodec
from shopml.serve.batch import batch_block
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
    with pytest.raises(SchemaError, match=r'feature .amount. must be a number, got "x" \(row 0\)') as info:
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
    with pytest.raises(BadRequestError, match=r'unknown outputs \["label"\]'):
        decode_v2(orjson.dumps({"inputs": [t], "outputs": [{"name": "label"}]}), codec)
    with pytest.raises(SchemaError, match=r"unexpected inputs \['colour'\]"):
        decode_v2(orjson.dumps({"inputs": [{**t, "name": "colour"}]}), codec)


def test_v2_response_shape() -> None:
    body = orjson.loads(
        encode_v2("m", 3, 0.5, "r1", np.array([0.2, 0.7], dtype=np.float32), ["score", "decision"])
    )
    assert body["model_version"] == "3" and body["id"] == "r1"
    assert body["outputs"][1] == {"name": "decision", "shape": [2], "datatype": "INT8", "data": [0, 1]}


def _v2_body(codec: InputCodec, rows: list[dict[str, Any]]) -> bytes:
    dtypes = {"numeric": "FP64", "categorical": "BYTES", "boolean": "BOOL"}
    inputs = [
        {"name": n, "shape": [len(rows), 1], "datatype": dtypes[k], "data": [r[n] for r in rows]}
        for n, k in codec.kinds.items()
    ]
    return orjson.dumps({"inputs": inputs})


def test_fast_row_path_equals_the_general_path(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    """/v1 rows take the fast path; OIP tensors always take the general one: same inputs, same keys."""
    variants = [dict(r) for r in rows[:8]]
    variants[1]["hour"] = 7  # an int for a numeric feature
    variants[2]["amount_avg_30d"] = None  # a null where the schema allows it
    variants[3]["is_new_device"] = True
    variants[4].pop("transaction_id")
    variants[5]["event_time"] = "2026-01-01T12:00:00"  # naive: taken as UTC
    fast = codec.encode_rows([dict(r) for r in variants])
    general, _, _ = decode_v2(_v2_body(codec, variants), codec)
    assert fast.rows is not None and general.rows is None
    for a, b in zip(fast.block, general.block, strict=True):
        assert a.shape == b.shape and a.flags.c_contiguous
        assert a.tolist() == b.tolist() or np.array_equal(a, b, equal_nan=True)
    assert fast.cache_key() == general.cache_key()
    assert fast.times is not None and fast.times[5] is not None and fast.times[5].utcoffset() is not None


def test_unusual_rows_fall_back_to_the_general_path(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    unseen = codec.encode_rows([dict(rows[0], country="ZZ")])
    assert unseen.rows is None and unseen.unseen == {"country": 1}
    as_int = codec.encode_rows([dict(rows[0], is_new_device=1, transaction_id=42)])
    assert as_int.rows is None and as_int.ids == ["42"] and as_int.logged["is_new_device"] == [True]
    with pytest.raises(SchemaError, match=r"feature 'amount' must be >= 0, got -1.0 \(row 1\)"):
        codec.encode_rows([dict(rows[0]), dict(rows[1], amount=-1.0)])
    with pytest.raises(SchemaError, match=r'field .event_time. must be an ISO-8601 timestamp, got "soon"'):
        codec.encode_rows([dict(rows[0], event_time="soon")])


def test_batch_block_joins_fast_and_general_requests(codec: InputCodec, rows: list[dict[str, Any]]) -> None:
    parts = [codec.encode_rows([dict(r)]) for r in rows[:3]]
    parts.append(codec.encode_rows([dict(rows[3], country="ZZ")]))  # general path
    floats, strings = batch_block(parts)
    assert floats.shape == (parts[0].block[0].shape[0], 4) and strings[:, 3].tolist().count("") == 1
    only_fast = batch_block(parts[:3])
    assert np.array_equal(only_fast[0], floats[:, :3], equal_nan=True)
    assert only_fast[0].flags.c_contiguous and only_fast[1].tolist() == strings[:, :3].tolist()
