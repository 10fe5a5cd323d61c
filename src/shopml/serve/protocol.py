"""Wire formats: the Open Inference Protocol v2 (KServe V2) REST body and the ``/v1`` convenience body.

Request bodies are decoded with orjson and turned into an :class:`~shopml.serve.codec.Encoded` batch;
answers are encoded back with orjson. Every malformed body raises :class:`BadRequestError` (400) or
:class:`~shopml.errors.SchemaError` (422) with a message naming the field.
"""

from __future__ import annotations

from typing import Any

import orjson

from shopml.errors import PayloadTooLargeError, SchemaError, ShopmlError
from shopml.kinds.binary import encode_v1, encode_v2
from shopml.schema.checks import show
from shopml.serve.codec import Encoded, InputCodec

__all__ = [
    "OUTPUTS",
    "BadRequestError",
    "decode_v1",
    "decode_v2",
    "encode_v1",
    "encode_v2",
    "parse_json",
    "request_id",
]

OUTPUTS = ("score", "decision")
_INT_TYPES = frozenset(f"{p}INT{b}" for p in ("", "U") for b in (8, 16, 32, 64))
_FP_TYPES = frozenset({"FP16", "FP32", "FP64"})
MAX_ID = 128
_KIND_TYPES = {
    "numeric": _INT_TYPES | _FP_TYPES,
    "boolean": _INT_TYPES | {"BOOL"},
    "categorical": frozenset({"BYTES"}),
}


class BadRequestError(ShopmlError):
    """A body that is not valid JSON or not shaped like the protocol asks."""

    status = 400
    kind = "bad_request"


def parse_json(body: bytes) -> Any:
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


def _object(body: bytes, keys: frozenset[str]) -> dict[str, Any]:
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise BadRequestError(f"request body must be a JSON object, got {type(doc).__name__}")
    if not keys.issuperset(doc):
        extra = sorted(k for k in doc if k not in keys)
        raise BadRequestError(f"unexpected top-level fields {extra} (allowed: {sorted(keys)})")
    return doc


# --- /v1/models/{name}/predict -------------------------------------------------------------------
_V1_KEYS = frozenset({"instances"})


def decode_v1(body: bytes, codec: InputCodec, max_rows: int | None = None) -> Encoded:
    """``{"instances": [{feature: value, ...}, ...]}`` → a validated batch (at most ``max_rows``)."""
    doc = _object(body, _V1_KEYS)
    rows = doc.get("instances")
    if not isinstance(rows, list):
        raise BadRequestError(f"'instances' must be a list of objects, got {type(rows).__name__}")
    _too_many(len(rows), max_rows)
    return codec.encode_rows(rows)


# --- /v2/models/{name}/infer ---------------------------------------------------------------------
_V2_KEYS = frozenset({"id", "parameters", "inputs", "outputs"})


def _rows(shape: Any, name: str) -> int:
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 2
        or not all(type(d) is int and d >= 0 for d in shape)
        or (len(shape) == 2 and shape[1] != 1)
    ):
        raise BadRequestError(f"input '{name}': shape must be [N] or [N, 1] with N >= 0, got {show(shape)}")
    return int(shape[0])


def _tensor(t: Any, i: int, codec: InputCodec) -> tuple[str, int, list[Any]]:
    if not isinstance(t, dict):
        raise BadRequestError(f"inputs[{i}] must be an object with name, shape, datatype, data")
    name, dtype, data = t.get("name"), t.get("datatype"), t.get("data")
    if not isinstance(name, str):
        raise BadRequestError(f"inputs[{i}].name must be a string, got {show(name)}")
    n = _rows(t.get("shape"), name)
    if not isinstance(data, list):
        raise BadRequestError(f"input '{name}': data must be a list, got {type(data).__name__}")
    if data and isinstance(data[0], list):
        if not all(isinstance(d, list) and len(d) == 1 for d in data):
            raise BadRequestError(f"input '{name}': nested data must be [[v], [v], ...] for shape [N, 1]")
        data = [d[0] for d in data]
    if len(data) != n:
        raise BadRequestError(f"input '{name}': shape says {n} values, data has {len(data)}")
    if name in codec.extras:
        if dtype != "BYTES":
            raise BadRequestError(f"input '{name}': datatype must be BYTES, got {show(dtype)}")
        return name, n, data
    if name not in codec.names:
        return name, n, data  # reported with all other unexpected names by the codec
    kind = codec.kinds[name]
    if dtype not in _KIND_TYPES[kind]:
        raise SchemaError(
            f"input '{name}' is {kind}: datatype must be one of {sorted(_KIND_TYPES[kind])},"
            f" got {show(dtype)}"
        )
    if dtype in _INT_TYPES:
        bad = next((v for v in data if type(v) is not int and v is not None), None)
        if bad is not None:
            raise SchemaError(f"input '{name}' has datatype {dtype} but holds {show(bad)}")
    return name, n, data


def decode_v2(
    body: bytes, codec: InputCodec, max_rows: int | None = None, names: tuple[str, ...] = OUTPUTS
) -> tuple[Encoded, str | None, list[str]]:
    """An OIP v2 inference request → (batch, client request id, requested output names; ``names``: the
    model's outputs, the binary kind's by default)."""
    doc = _object(body, _V2_KEYS)
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequestError("'inputs' must be a non-empty list of tensors")
    columns: dict[str, list[Any]] = {}
    sizes = set()
    for i, t in enumerate(inputs):
        name, n, data = _tensor(t, i, codec)
        if name in columns:
            raise BadRequestError(f"input '{name}' is given twice")
        columns[name] = data
        sizes.add(n)
    if len(sizes) != 1:
        raise BadRequestError(f"all inputs must have the same number of rows, got {sorted(sizes)}")
    n = sizes.pop()
    if n == 0:
        raise BadRequestError("inputs hold zero rows: send at least one")
    _too_many(n, max_rows)
    rid = doc.get("id")
    if rid is not None and not (isinstance(rid, str) and request_id(rid)):
        raise BadRequestError(f"'id' must be 1 to {MAX_ID} printable ASCII characters, got {show(rid)}")
    outputs = _outputs(doc.get("outputs"), names)
    return codec.encode_columns(n, columns), rid, outputs


def _outputs(req: Any, outputs: tuple[str, ...] = OUTPUTS) -> list[str]:
    """The requested output names (of the model's ``outputs``): all when absent; unknown or repeated
    names are refused."""
    if req is None:
        return list(outputs)
    if not isinstance(req, list) or not all(isinstance(o, dict) for o in req):
        raise BadRequestError('\'outputs\' must be a list of objects like {"name": "score"}')
    names = [o.get("name") for o in req]
    unknown = [show(o) for o in names if o not in outputs]
    if unknown:
        raise BadRequestError(f"unknown outputs [{', '.join(unknown)}] (this model has {list(outputs)})")
    repeated = sorted({o for o in names if names.count(o) > 1})
    if repeated:
        raise BadRequestError(f"outputs {repeated} are requested more than once")
    return names
