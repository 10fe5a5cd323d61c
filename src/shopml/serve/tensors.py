"""OIP v2 tensors as raw bytes: the layout of the binary tensor data extension (REST) and of gRPC's
``raw_input_contents`` / ``raw_output_contents``.

Elements are little-endian, row-major, without padding; ``BOOL`` is one byte (0 or 1); ``BYTES`` is, per
element, a 4-byte little-endian unsigned length followed by that many bytes. Decoded values are the
Python values the schema checks take (numbers, bools, ``str`` for BYTES), so a binary tensor is
validated exactly like the same tensor sent as JSON. Errors are :class:`ValueError` with a message the
caller prefixes with the input's name.

>>> decode("FP32", encode("FP32", [0.5, 2.0]), 2)
[0.5, 2.0]
>>> encode("BYTES", ["EUR", "US"])
b'\\x03\\x00\\x00\\x00EUR\\x02\\x00\\x00\\x00US'
>>> decode("BYTES", b"\\x03\\x00\\x00\\x00EUR", 1)
['EUR']
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

__all__ = ["DATATYPES", "NUMPY", "decode", "encode", "nbytes"]

#: The fixed-size OIP datatypes and their little-endian numpy types.
NUMPY: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
#: Every datatype with a raw layout (BF16 has no numpy type: not served).
DATATYPES: tuple[str, ...] = (*NUMPY, "BYTES")
_LEN = struct.Struct("<I")
#: struct's code per fixed-size datatype: a few elements unpack faster with struct than through numpy
#: (one request's columns hold one value each: ~0.3 vs ~1.5 µs).
_CODES = dict(zip(NUMPY, "?bhiqBHIQefd", strict=True))
_SMALL = 256


def _dtype(datatype: Any) -> np.dtype[Any]:
    dt = NUMPY.get(datatype) if isinstance(datatype, str) else None
    if dt is None:
        raise ValueError(f"datatype must be one of {list(DATATYPES)}, got {datatype!r:.40}")
    return dt


def nbytes(datatype: str, count: int) -> int | None:
    """The raw size of ``count`` elements (None for BYTES, whose size depends on the values)."""
    return None if datatype == "BYTES" else count * _dtype(datatype).itemsize


def decode(datatype: Any, raw: bytes | memoryview, count: int) -> list[Any]:
    """``count`` elements of ``datatype`` that fill ``raw`` exactly → Python values."""
    if datatype == "BYTES":
        return _split(raw, count)
    dt = _dtype(datatype)
    size = count * dt.itemsize
    if len(raw) != size:
        raise ValueError(
            f"binary data is {len(raw)} bytes, but {count} {datatype} values take {size} bytes"
            f" ({dt.itemsize} each)"
        )
    if datatype == "BOOL" and count and max(raw) > 1:
        i, bad = next((i, b) for i, b in enumerate(bytes(raw)) if b > 1)
        raise ValueError(f"BOOL bytes must be 0 or 1, got {bad} (element {i})")
    if count <= _SMALL:
        return list(struct.unpack(f"<{count}{_CODES[datatype]}", raw))
    values: list[Any] = np.frombuffer(raw, dtype=dt).tolist()
    return values


def _split(raw: bytes | memoryview, count: int) -> list[Any]:
    data = bytes(raw)
    end = len(data)
    unpack = _LEN.unpack_from
    out: list[Any] = []
    append = out.append
    pos = 0
    try:  # the usual, well-formed case in a tight loop; anything wrong: the checking loop says what
        for _ in range(count):
            (length,) = unpack(data, pos)
            start, pos = pos + 4, pos + 4 + length
            if pos > end:
                break
            append(data[start:pos].decode())
        else:
            if pos == end:
                return out
    except (struct.error, UnicodeDecodeError):
        pass
    return _split_checked(data, count)


def _split_checked(view: bytes, count: int) -> list[Any]:
    pos, end = 0, len(view)
    out: list[Any] = []
    for i in range(count):
        if pos + 4 > end:
            raise ValueError(f"BYTES data ends after {i} of {count} elements (each: 4-byte length + bytes)")
        (length,) = _LEN.unpack_from(view, pos)
        pos += 4
        if pos + length > end:
            raise ValueError(f"BYTES element {i} says {length} bytes, only {end - pos} remain")
        try:
            out.append(str(view[pos : pos + length], "utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"BYTES element {i} is not valid UTF-8") from None
        pos += length
    if pos != end:
        raise ValueError(f"BYTES data holds {end - pos} bytes beyond its {count} elements")
    return out


def encode(datatype: str, values: Any) -> bytes:
    """Values (a list or an array) of ``datatype`` → raw bytes (BYTES: ``str`` or ``bytes`` elements)."""
    if datatype == "BYTES":
        parts: list[bytes] = []
        for v in np.asarray(values, dtype=object).reshape(-1).tolist():
            b = v if isinstance(v, bytes) else str(v).encode()
            parts += (_LEN.pack(len(b)), b)
        return b"".join(parts)
    return np.ascontiguousarray(values, dtype=_dtype(datatype)).tobytes()
