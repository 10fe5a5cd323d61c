"""The binary tensor data extension's framing: a JSON header of ``Inference-Header-Content-Length`` bytes,
then the raw tensors of the inputs marked ``parameters.binary_data_size``, in input order; answers frame
their binary outputs the same way (the raw layout of each tensor is :mod:`shopml.serve.tensors`).
"""

from __future__ import annotations

from typing import Any

import orjson

from shopml.errors import ShopmlError
from shopml.schema.checks import show
from shopml.serve import tensors

__all__ = ["HEADER_LENGTH", "BadRequestError", "BinaryPart", "binary_size", "encode_binary", "split_body"]

HEADER_LENGTH = "Inference-Header-Content-Length"


class BadRequestError(ShopmlError):
    """A body that is not valid JSON or not shaped like the protocol asks."""

    status = 400
    kind = "bad_request"


class BinaryPart:
    """The bytes after the JSON header, handed out to the inputs in order."""

    def __init__(self, raw: memoryview) -> None:
        self.raw, self.pos = raw, 0

    def take(self, name: str, size: int) -> memoryview:
        """The next ``size`` bytes, for input ``name``; 400 when fewer are left."""
        left = len(self.raw) - self.pos
        if size > left:
            raise BadRequestError(
                f"input '{name}': binary_data_size is {size} bytes, but only {left} bytes of binary data"
                f" are left after the JSON header ({HEADER_LENGTH})"
            )
        chunk = self.raw[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def done(self) -> None:
        """Every byte was claimed by an input; 400 naming both sizes if not."""
        if self.pos != len(self.raw):
            raise BadRequestError(
                f"the body holds {len(self.raw)} bytes after the JSON header ({HEADER_LENGTH}), but the"
                f" inputs' binary_data_size add up to {self.pos}"
            )


def split_body(body: bytes, header_length: bytes | None) -> tuple[bytes | memoryview, BinaryPart]:
    """The JSON header and the binary part of a body (``header_length``: the header's value, if sent)."""
    if header_length is None:
        return body, BinaryPart(memoryview(b""))
    text = header_length.decode("latin-1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise BadRequestError(f"{HEADER_LENGTH} must be a byte count, got {show(text)}")
    size = int(text)
    if size > len(body):
        raise BadRequestError(f"{HEADER_LENGTH} is {size} bytes, but the body has only {len(body)} bytes")
    view = memoryview(body)
    return view[:size], BinaryPart(view[size:])


def binary_size(params: Any, name: str) -> int | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        raise BadRequestError(f"input '{name}': parameters must be an object, got {show(params)}")
    size = params.get("binary_data_size")
    if size is None:
        return None
    if type(size) is not int or size < 0:
        raise BadRequestError(
            f"input '{name}': parameters.binary_data_size must be a byte count, got {show(size)}"
        )
    return size


def encode_binary(response: bytes, binary: frozenset[str]) -> tuple[bytes, int | None]:
    """An OIP v2 JSON response → (body, JSON header length) with the outputs named in ``binary`` as raw
    bytes after the header (``parameters.binary_data_size`` each, in output order); no binary output:
    the JSON as it is and None."""
    if not binary:
        return response, None
    doc = orjson.loads(response)
    parts: list[bytes] = []
    for out in doc["outputs"]:
        if out["name"] in binary:
            raw = tensors.encode(out["datatype"], out.pop("data"))
            out["parameters"] = {**out.get("parameters", {}), "binary_data_size": len(raw)}
            parts.append(raw)
    head = orjson.dumps(doc)
    return head + b"".join(parts), len(head)
