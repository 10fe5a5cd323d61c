"""Raw tensor bytes (binary extension, gRPC): every datatype round-trips; every kind's outputs encode."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopml.kinds import get_kind
from shopml.serve import tensors
from shopml.serve.protocol import encode_binary

SAMPLES = {
    "BOOL": [True, False, True],
    "INT8": [-128, 0, 127],
    "INT16": [-32768, 5, 32767],
    "INT32": [-(2**31), 7, 2**31 - 1],
    "INT64": [-(2**63), 9, 2**63 - 1],
    "UINT8": [0, 1, 255],
    "UINT16": [0, 65535, 3],
    "UINT32": [0, 2**32 - 1, 3],
    "UINT64": [0, 2**64 - 1, 3],
    "FP16": [0.5, -2.0, 65504.0],
    "FP32": [0.25, -1.5, 2.0**100],
    "FP64": [0.1, -1e300, 2.5],
    "BYTES": ["EUR", "", "Zürich"],
}


@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_every_datatype_round_trips(dtype: str) -> None:
    raw = tensors.encode(dtype, SAMPLES[dtype])
    if dtype != "BYTES":
        assert len(raw) == tensors.nbytes(dtype, 3)
    assert tensors.decode(dtype, raw, 3) == SAMPLES[dtype]


@given(st.lists(st.text(max_size=20), max_size=20))
def test_bytes_round_trip(values: list[str]) -> None:
    assert tensors.decode("BYTES", tensors.encode("BYTES", values), len(values)) == values


@pytest.mark.parametrize(
    ("dtype", "raw", "count", "match"),
    [
        ("FP32", b"\0" * 6, 2, "6 bytes, but 2 FP32 values take 8 bytes"),
        ("BOOL", b"\x01\x03", 2, "BOOL bytes must be 0 or 1, got 3 \\(element 1\\)"),
        ("BYTES", b"\x01\0\0", 1, "ends after 0 of 1 elements"),
        ("BYTES", b"\x05\0\0\0abc", 1, "element 0 says 5 bytes, only 3 remain"),
        ("BYTES", b"\x01\0\0\0ab", 1, "1 bytes beyond its 1 elements"),
        ("BYTES", b"\x01\0\0\0\xff", 1, "element 0 is not valid UTF-8"),
        ("BF16", b"\0\0", 1, "datatype must be one of"),
    ],
)
def test_malformed_raw_data_says_why(dtype: str, raw: bytes, count: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tensors.decode(dtype, raw, count)


HEADS = {
    "binary": {"threshold": 0.5},
    "multiclass": {"classes": ["a", "b", "c"]},
    "ranking": {"items": ["x", "y", "z", "w"], "top_k": 2},
    "regression": {},
}
OUTS = {
    "binary": np.array([0.2, 0.7], dtype=np.float32),
    "multiclass": np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], dtype=np.float32),
    "ranking": np.array([[0.1, 0.9, 0.3, 0.2], [0.5, 0.4, 0.8, 0.0]], dtype=np.float32),
    "regression": np.array([1.5, -2.25], dtype=np.float32),
}


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_every_kinds_outputs_go_binary_and_back(kind: str) -> None:
    head = get_kind(kind).head(HEADS[kind])
    names = list(head.names)
    plain = head.encode_v2("m", 1, "r1", OUTS[kind], names)
    body, size = encode_binary(plain, frozenset(names))
    assert size is not None
    doc = orjson.loads(body[:size])
    want = orjson.loads(plain)
    pos = size
    for got, ref in zip(doc["outputs"], want["outputs"], strict=True):
        n = int(np.prod(got["shape"]))
        nbytes = got["parameters"]["binary_data_size"]
        assert tensors.decode(got["datatype"], body[pos : pos + nbytes], n) == ref["data"]
        pos += nbytes
    assert pos == len(body)
    assert encode_binary(plain, frozenset()) == (plain, None)
