"""Wire formats: the Open Inference Protocol v2 (KServe V2) REST body and the ``/v1`` convenience body.

Request bodies are decoded with orjson and turned into an :class:`~shopml.serve.codec.Encoded` batch;
answers are encoded back with orjson. OIP v2 also takes the **binary tensor data extension** (what
tritonclient sends by default): a JSON header of ``Inference-Header-Content-Length`` bytes, then each
input marked ``parameters.binary_data_size`` as raw bytes (:mod:`shopml.serve.tensors`), in input
order; outputs asked for with ``parameters.binary_data`` (or the request's ``binary_data_output``) go
back the same way. Every tensor, however it came, passes :func:`check_tensor`. Every malformed body
raises :class:`BadRequestError` (400), :class:`~shopml.errors.SchemaError` (422) or
:class:`~shopml.errors.PayloadTooLargeError` (413) with a message naming the input or field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import orjson

from shopml.errors import PayloadTooLargeError, SchemaError
from shopml.kinds.binary import encode_v1, encode_v2
from shopml.schema.checks import show
from shopml.serve import tensors
from shopml.serve.binary import (
    HEADER_LENGTH,
    BadRequestError,
    BinaryPart,
    binary_size,
    encode_binary,
    split_body,
)
from shopml.serve.codec import Encoded
from shopml.serve.codecs import Codec

__all__ = [
    "HEADER_LENGTH",
    "OUTPUTS",
    "BadRequestError",
    "V2Request",
    "check_tensor",
    "decode_infer",
    "decode_v1",
    "decode_v2",
    "dense_inputs",
    "encode_binary",
    "encode_tensors",
    "encode_v1",
    "encode_v2",
    "parse_json",
    "request_id",
    "requested_outputs",
]

OUTPUTS = ("score", "decision")
_INT_TYPES = frozenset(f"{p}INT{b}" for p in ("", "U") for b in (8, 16, 32, 64))
_FP_TYPES = frozenset({"FP16", "FP32", "FP64"})
MAX_ID = 128
_KIND_TYPES = {
    "numeric": _INT_TYPES | _FP_TYPES,
    "boolean": _INT_TYPES | {"BOOL"},
    "categorical": frozenset({"BYTES"}),
    "session": frozenset({"BYTES"}),
    "text": frozenset({"BYTES"}),
}


_NO_TENSORS: Mapping[str, tuple[int, ...]] = {}


def dense_inputs(codec: Codec) -> Mapping[str, tuple[int, ...]]:
    """A codec's dense inputs (name → shape after N, e.g. a photo's ``(1, 28, 28)``): FP32 tensors
    ``[N, *shape]`` decoded as one array, not value lists."""
    return getattr(codec, "tensors", _NO_TENSORS)


def parse_json(body: bytes | memoryview) -> Any:
    """Decode a JSON body; the error says where it broke."""
    if not body:
        raise BadRequestError("request body is empty: expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"request body is not valid JSON: {exc}") from None


def request_id(value: str) -> bool:
    """Whether ``value`` can be a request id: 1–128 printable ASCII characters (it becomes a header)."""
    return 0 < len(value) <= MAX_ID and value.isascii() and value.isprintable()


def _too_many(n: int, max_rows: int | None) -> None:
    if max_rows is not None and n > max_rows:
        raise PayloadTooLargeError(
            f"{n} rows in one request exceed the limit of {max_rows} (serve.max_rows_per_request)"
        )


def _object(body: bytes | memoryview, keys: frozenset[str]) -> dict[str, Any]:
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise BadRequestError(f"request body must be a JSON object, got {type(doc).__name__}")
    if not keys.issuperset(doc):
        extra = sorted(k for k in doc if k not in keys)
        raise BadRequestError(f"unexpected top-level fields {extra} (allowed: {sorted(keys)})")
    return doc


# --- /v1/models/{name}/predict -------------------------------------------------------------------
def decode_v1(body: bytes, codec: Codec, max_rows: int | None = None) -> Encoded:
    """``{"instances": [{feature: value, ...}, ...]}`` → a validated batch (at most ``max_rows``); a
    codec that takes request parameters (a session's ``k``) also allows ``"parameters"``."""
    doc = _object(body, codec.v1_keys)
    rows = doc.get("instances")
    if not isinstance(rows, list):
        raise BadRequestError(f"'instances' must be a list of objects, got {type(rows).__name__}")
    _too_many(len(rows), max_rows)
    return codec.encode_rows(rows, doc.get("parameters"))


# --- /v2/models/{name}/infer ---------------------------------------------------------------------
_V2_KEYS = frozenset({"id", "parameters", "inputs", "outputs"})


class V2Request(NamedTuple):
    """A decoded OIP v2 inference request."""

    enc: Encoded  # the validated batch
    rid: str | None  # the client's request id
    outputs: list[str]  # the requested output names, in order
    binary: frozenset[str]  # those to answer as raw bytes (binary tensor data extension)


def _rows(shape: Any, name: str, matrix: bool = False) -> tuple[int, int]:
    """(rows, values per row) of a tensor's shape: [N] or [N, 1]; [N, L] for a matrix input."""
    if matrix:
        if (
            not isinstance(shape, list | tuple)
            or len(shape) != 2
            or not all(type(d) is int and d >= 0 for d in shape)
        ):
            raise BadRequestError(f"input '{name}': shape must be [N, L] with N, L >= 0, got {show(shape)}")
        return int(shape[0]), int(shape[1])
    if (
        not isinstance(shape, list | tuple)
        or not 1 <= len(shape) <= 2
        or not all(type(d) is int and d >= 0 for d in shape)
        or (len(shape) == 2 and shape[1] != 1)
    ):
        raise BadRequestError(f"input '{name}': shape must be [N] or [N, 1] with N >= 0, got {show(shape)}")
    return int(shape[0]), 1


def _dense(
    name: str,
    shape: Any,
    dtype: Any,
    data: Any,
    dims: tuple[int, ...],
    max_rows: int | None,
    raw: bytes | memoryview | None,
) -> tuple[int, np.ndarray]:
    """A dense FP32 input ``[N, *dims]`` (JSON data flat or nested, or raw bytes) → (N, float32 array)."""
    want = f"[N, {', '.join(map(str, dims))}]"
    if (
        not isinstance(shape, list | tuple)
        or len(shape) != len(dims) + 1
        or not all(type(d) is int and d >= 0 for d in shape)
        or tuple(shape[1:]) != dims
    ):
        raise BadRequestError(f"input '{name}': shape must be {want} with N >= 0, got {show(shape)}")
    n = int(shape[0])
    _too_many(n, max_rows)
    if dtype != "FP32":
        raise SchemaError(f"input '{name}': datatype must be FP32 (shape {want}), got {show(dtype)}")
    count = n * math.prod(dims)
    if raw is not None:
        if len(raw) != count * 4:
            raise BadRequestError(
                f"input '{name}': binary data is {len(raw)} bytes, but {count} FP32 values take {count * 4}"
            )
        return n, np.frombuffer(raw, dtype="<f4").reshape(n, *dims)
    try:
        arr = np.asarray(data if data is not None else [])
    except ValueError:
        raise BadRequestError(f"input '{name}': data must be numbers, flat or nested as {want}") from None
    if arr.size and arr.dtype.kind not in "fiu":
        raise SchemaError(f"input '{name}' has datatype FP32 but its data holds non-numbers ({arr.dtype})")
    if arr.size != count or (arr.ndim > 1 and arr.shape != (n, *dims)):
        raise BadRequestError(
            f"input '{name}': shape says {n}×{'×'.join(map(str, dims))} = {count} values, data has"
            f" {arr.size} (shape {list(arr.shape)})"
        )
    return n, arr.astype(np.float32).reshape(n, *dims)


def check_tensor(
    name: str,
    shape: Any,
    dtype: Any,
    data: list[Any] | None,
    codec: Codec,
    max_rows: int | None = None,
    raw: bytes | memoryview | None = None,
) -> tuple[int, Any]:
    """One input tensor, given as JSON ``data`` or as ``raw`` bytes → (rows, values). The same checks
    and messages whatever the transport (JSON, binary extension, gRPC). A matrix input ([N, L], a
    session) comes back as one list of L values per row; a dense input (:func:`dense_inputs`, a
    photo) as one float32 array ``[N, *shape]``."""
    dims = dense_inputs(codec).get(name)
    if dims is not None:
        return _dense(name, shape, dtype, data, dims, max_rows, raw)
    width = 0
    if name in codec.matrix:
        n, width = _rows(shape, name, matrix=True)
    else:
        n, _ = _rows(shape, name)
    _too_many(n, max_rows)
    count = n * width if width else n
    if name in codec.extras:
        if dtype != "BYTES":
            raise BadRequestError(f"input '{name}': datatype must be BYTES, got {show(dtype)}")
    elif name in codec.names:
        kind = codec.kinds[name]
        if dtype not in _KIND_TYPES[kind]:
            raise SchemaError(
                f"input '{name}' is {kind}: datatype must be one of {sorted(_KIND_TYPES[kind])},"
                f" got {show(dtype)}"
            )
    if raw is not None:
        try:
            data = tensors.decode(dtype, raw, count)
        except ValueError as exc:
            raise BadRequestError(f"input '{name}': {exc}") from None
    elif data is None or len(data) != count:
        raise BadRequestError(f"input '{name}': shape says {count} values, data has {len(data or ())}")
    if width:
        return n, [data[i * width : (i + 1) * width] for i in range(n)]
    if dtype in _INT_TYPES and name in codec.names:
        bad = next((v for v in data if type(v) is not int and v is not None), None)
        if bad is not None:
            raise SchemaError(f"input '{name}' has datatype {dtype} but holds {show(bad)}")
    return n, data


def encode_tensors(
    columns: dict[str, list[Any]], sizes: set[int], codec: Codec, params: Any = None
) -> Encoded:
    """Checked tensors (values per input name, their row counts) and the request's parameters → the
    validated batch."""
    if len(sizes) != 1:
        raise BadRequestError(f"all inputs must have the same number of rows, got {sorted(sizes)}")
    n = sizes.pop()
    if n == 0:
        raise BadRequestError("inputs hold zero rows: send at least one")
    return codec.encode_columns(n, columns, params)


def _tensor(
    t: Any, i: int, codec: Codec, max_rows: int | None, binary: BinaryPart
) -> tuple[str, int, list[Any]]:
    if not isinstance(t, dict):
        raise BadRequestError(f"inputs[{i}] must be an object with name, shape, datatype, data")
    name, data = t.get("name"), t.get("data")
    if not isinstance(name, str):
        raise BadRequestError(f"inputs[{i}].name must be a string, got {show(name)}")
    size = binary_size(t.get("parameters"), name)
    raw = None
    if size is not None:
        if data is not None:
            raise BadRequestError(f"input '{name}' has both 'data' and parameters.binary_data_size")
        raw = binary.take(name, size)
    else:
        if not isinstance(data, list):
            raise BadRequestError(f"input '{name}': data must be a list, got {type(data).__name__}")
        if name in dense_inputs(codec):
            pass  # nested or flat: checked against the shape as one array
        elif data and isinstance(data[0], list) and name in codec.matrix:
            if not all(isinstance(d, list) for d in data):
                raise BadRequestError(f"input '{name}': nested data must be one list per row")
            data = [v for d in data for v in d]
        elif data and isinstance(data[0], list):
            if not all(isinstance(d, list) and len(d) == 1 for d in data):
                raise BadRequestError(f"input '{name}': nested data must be [[v], [v], ...] for shape [N, 1]")
            data = [d[0] for d in data]
    n, values = check_tensor(name, t.get("shape"), t.get("datatype"), data, codec, max_rows, raw)
    return name, n, values


def decode_infer(
    body: bytes,
    codec: Codec,
    max_rows: int | None = None,
    names: tuple[str, ...] = OUTPUTS,
    header_length: bytes | None = None,
) -> V2Request:
    """An OIP v2 inference request — JSON, or a JSON header of ``header_length`` bytes followed by binary
    tensors — → the batch, the client's request id and the requested outputs (``names``: the model's
    outputs, the binary kind's by default)."""
    head, binary = split_body(body, header_length)
    doc = _object(head, _V2_KEYS)
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequestError("'inputs' must be a non-empty list of tensors")
    columns: dict[str, list[Any]] = {}
    sizes = set()
    for i, t in enumerate(inputs):
        name, n, data = _tensor(t, i, codec, max_rows, binary)
        if name in columns:
            raise BadRequestError(f"input '{name}' is given twice")
        columns[name] = data
        sizes.add(n)
    binary.done()
    rid = doc.get("id")
    if rid is not None and not (isinstance(rid, str) and request_id(rid)):
        raise BadRequestError(f"'id' must be 1 to {MAX_ID} printable ASCII characters, got {show(rid)}")
    params = doc.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise BadRequestError(f"'parameters' must be an object, got {show(params)}")
    all_binary = _flag(params, "binary_data_output", "parameters")
    outputs, binary_outputs = requested_outputs(doc.get("outputs"), names, all_binary)
    return V2Request(encode_tensors(columns, sizes, codec, params), rid, outputs, binary_outputs)


def decode_v2(
    body: bytes, codec: Codec, max_rows: int | None = None, names: tuple[str, ...] = OUTPUTS
) -> tuple[Encoded, str | None, list[str]]:
    """A JSON OIP v2 inference request → (batch, client request id, requested output names)."""
    req = decode_infer(body, codec, max_rows, names)
    return req.enc, req.rid, req.outputs


def _flag(params: dict[str, Any] | None, key: str, where: str) -> bool | None:
    value = params.get(key) if params else None
    if value is not None and not isinstance(value, bool):
        raise BadRequestError(f"{where}.{key} must be true or false, got {show(value)}")
    return value


def requested_outputs(
    req: Any, outputs: tuple[str, ...] = OUTPUTS, all_binary: bool | None = None
) -> tuple[list[str], frozenset[str]]:
    """The requested output names (of the model's ``outputs``; all when absent) and those to answer as
    binary (``parameters.binary_data`` per output, else ``all_binary``); unknown or repeated names are
    refused."""
    if req is None:
        return list(outputs), frozenset(outputs if all_binary else ())
    if not isinstance(req, list) or not all(isinstance(o, dict) for o in req):
        raise BadRequestError('\'outputs\' must be a list of objects like {"name": "score"}')
    names = [o.get("name") for o in req]
    unknown = [show(o) for o in names if o not in outputs]
    if unknown:
        raise BadRequestError(f"unknown outputs [{', '.join(unknown)}] (this model has {list(outputs)})")
    repeated = sorted({o for o in names if names.count(o) > 1})
    if repeated:
        raise BadRequestError(f"outputs {repeated} are requested more than once")
    binary = set()
    for o in req:
        params = o.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise BadRequestError(f"output '{o['name']}': parameters must be an object, got {show(params)}")
        flag = _flag(params, "binary_data", f"output '{o['name']}': parameters")
        if flag or (flag is None and all_binary):
            binary.add(o["name"])
    return names, frozenset(binary)
