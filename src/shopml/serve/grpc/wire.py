"""gRPC messages ↔ the data plane's types: a ``ModelInferRequest`` becomes the same validated batch a REST
request does (every tensor through :func:`~shopml.serve.protocol.check_tensor`, so the checks and their
messages are the same), and a kind's OIP v2 answer becomes a ``ModelInferResponse`` with every output in
``raw_output_contents`` (what Triton answers, and what tritonclient reads first)."""

from __future__ import annotations

from typing import Any

import orjson

from shopml.schema.checks import show
from shopml.serve import tensors
from shopml.serve.codecs import Codec
from shopml.serve.grpc import oip_pb2 as pb
from shopml.serve.protocol import (
    MAX_ID,
    OUTPUTS,
    BadRequestError,
    V2Request,
    check_tensor,
    encode_tensors,
    request_id,
    requested_outputs,
)

__all__ = ["decode_request", "encode_response", "metadata_response"]

#: The typed ``InferTensorContents`` field of each datatype (FP16 has none: it travels raw).
CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def _contents(t: Any, codec: Codec) -> list[Any]:
    """The values of an input sent as typed ``contents``."""
    name, dtype = t.name, t.datatype
    field = CONTENTS.get(dtype)
    if field is None:
        if name in codec.names or name in codec.extras:
            return []  # check_tensor names the datatypes this input takes
        if dtype == "FP16":
            raise BadRequestError(f"input '{name}': FP16 values must come in raw_input_contents")
        raise BadRequestError(
            f"input '{name}': datatype must be one of {list(tensors.DATATYPES)}, got {show(dtype)}"
        )
    values = list(getattr(t.contents, field))
    if dtype == "BYTES":
        try:
            return [v.decode() for v in values]
        except UnicodeDecodeError:
            raise BadRequestError(f"input '{name}': a BYTES element is not valid UTF-8") from None
    return values


def decode_request(
    req: Any, codec: Codec, max_rows: int | None = None, names: tuple[str, ...] = OUTPUTS
) -> V2Request:
    """A ``ModelInferRequest`` → the validated batch, the client's id and the requested outputs."""
    inputs, raws = req.inputs, req.raw_input_contents
    if not inputs:
        raise BadRequestError("'inputs' must be a non-empty list of tensors")
    if raws and len(raws) != len(inputs):
        raise BadRequestError(f"raw_input_contents has {len(raws)} entries for {len(inputs)} inputs")
    columns: dict[str, list[Any]] = {}
    sizes = set()
    for i, t in enumerate(inputs):
        name = t.name
        if not name:
            raise BadRequestError(f"inputs[{i}].name must be a non-empty string")
        if raws:
            if t.HasField("contents"):
                raise BadRequestError(f"input '{name}' has both contents and raw_input_contents")
            n, values = check_tensor(name, list(t.shape), t.datatype, None, codec, max_rows, raws[i])
        else:
            n, values = check_tensor(name, list(t.shape), t.datatype, _contents(t, codec), codec, max_rows)
        if name in columns:
            raise BadRequestError(f"input '{name}' is given twice")
        columns[name] = values
        sizes.add(n)
    rid = req.id or None
    if rid is not None and not request_id(rid):
        raise BadRequestError(f"'id' must be 1 to {MAX_ID} printable ASCII characters, got {show(rid)}")
    wanted = [{"name": o.name} for o in req.outputs] or None
    outputs, _ = requested_outputs(wanted, names)
    params = {
        k: getattr(p, p.WhichOneof("parameter_choice") or "bool_param") for k, p in req.parameters.items()
    }
    return V2Request(encode_tensors(columns, sizes, codec, params or None), rid, outputs, frozenset())


def _parameter(p: Any, value: Any) -> None:
    if isinstance(value, bool):
        p.bool_param = value
    elif isinstance(value, int):
        p.int64_param = value
    elif isinstance(value, float):
        p.double_param = value
    elif isinstance(value, str):
        p.string_param = value
    else:  # a list (class names): as JSON text
        p.string_param = orjson.dumps(value).decode()


def encode_response(answer: bytes) -> Any:
    """A kind's OIP v2 JSON answer → a ``ModelInferResponse`` with raw output contents."""
    doc = orjson.loads(answer)
    resp = pb.ModelInferResponse(
        model_name=doc["model_name"], model_version=str(doc.get("model_version", "")), id=doc.get("id", "")
    )
    for key, value in (doc.get("parameters") or {}).items():
        _parameter(resp.parameters[key], value)
    for out in doc["outputs"]:
        resp.outputs.add(name=out["name"], datatype=out["datatype"], shape=out["shape"])
        resp.raw_output_contents.append(tensors.encode(out["datatype"], out["data"]))
    return resp


def metadata_response(meta: dict[str, Any]) -> Any:
    """The data plane's model metadata → a ``ModelMetadataResponse``."""
    resp = pb.ModelMetadataResponse(name=meta["name"], versions=meta["versions"], platform=meta["platform"])
    for t in meta["inputs"]:
        resp.inputs.add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
    for t in meta["outputs"]:
        resp.outputs.add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
    return resp
