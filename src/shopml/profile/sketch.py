"""Mergeable per-column sketches: the bounded-memory summaries a reference profile is made of.

:class:`NumericSketch` buckets values on one fixed logarithmic grid (the DDSketch / HDR-histogram
idea, read straight off the IEEE-754 bits): the key of ``x`` is its exponent and top ``SUB_BITS``
mantissa bits, signed like ``x``, so each power of two is cut into 64 buckets of equal relative width
(1.6%); ``|x| < 2^-30`` goes to key 0. Because the grid does not
depend on the data, two sketches merge by adding counts: merging is exactly associative and
commutative, whatever the partitioning. Any quantile is known within a relative error
``ALPHA`` (0.8%), and an empirical CDF evaluated at bucket edges is exact. Sketching costs one pass of
integer shifts and one ``bincount`` per column.

:class:`CategoricalSketch` keeps exact counts per category (schemas cap categoricals at a few hundred).

>>> a = NumericSketch.from_values(np.array([1.0, 2.0, 3.0]))
>>> b = NumericSketch.from_values(np.array([4.0, np.nan]))
>>> m = a.merge(b)
>>> (m.count, m.nans, m.min, m.max)
(4, 1, 1.0, 4.0)
>>> round(m.quantile(0.5), 1)
2.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import DataError

__all__ = [
    "ALPHA",
    "MIN_VALUE",
    "SUB_BITS",
    "CategoricalSketch",
    "NumericSketch",
    "bucket_keys",
    "bucket_upper",
    "sketch_from_dict",
]

#: Sub-buckets per power of two: bucket width is 2^-6 (1.6%) of the magnitude.
SUB_BITS = 6
#: Relative accuracy of quantiles read from a numeric sketch (half the relative bucket width).
ALPHA = 2.0 ** -(SUB_BITS + 1)
#: Magnitudes below this (2^-30 ≈ 9.3e-10) fall into the zero bucket.
MIN_VALUE = 2.0**-30
_SHIFT = 52 - SUB_BITS
_HALF = 1 << (63 - _SHIFT)  # number of magnitude keys per sign
_ZERO_LIMIT = (1023 - 30) << SUB_BITS  # magnitude keys below this are "zero"
_NONFINITE = 0x7FF << SUB_BITS  # magnitude keys from here on are inf/NaN

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _dense_counts(values: FloatArray) -> tuple[IntArray, IntArray, int]:
    """One pass over the float bits: (sorted keys, counts, number of NaN/inf)."""
    raw = np.ascontiguousarray(values, dtype=np.float64).view(np.int64) >> _SHIFT  # negatives: mag - HALF
    raw += _HALF
    dense = np.bincount(raw, minlength=2 * _HALF)
    nz = np.flatnonzero(dense)
    signed = nz - _HALF
    mag = np.where(signed < 0, signed + _HALF, signed)
    counts = dense[nz].astype(np.int64)
    finite = mag < _NONFINITE
    keys = np.where(mag < _ZERO_LIMIT, 0, np.where(signed < 0, -mag, mag))[finite]
    nonfinite = int(counts[~finite].sum())
    keys, counts = _add_counts(keys.astype(np.int64), counts[finite])
    return keys, counts, nonfinite


def bucket_keys(values: FloatArray) -> IntArray:
    """Bucket key of each finite value on the fixed grid (monotone in the value; 0 near zero)."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    mag = (bits & 0x7FFFFFFFFFFFFFFF) >> _SHIFT
    keys = np.where(bits < 0, -mag, mag)
    return np.where(mag < _ZERO_LIMIT, 0, keys).astype(np.int64)


def _edge(mag: IntArray) -> FloatArray:
    return np.left_shift(mag.astype(np.int64), _SHIFT).view(np.float64)


def bucket_upper(keys: IntArray) -> FloatArray:
    """Upper edge of each bucket (every value in bucket ``k`` is ≤ this edge)."""
    k = np.asarray(keys, dtype=np.int64)
    pos = _edge(np.maximum(k, 0) + 1)
    neg = -_edge(np.maximum(-k, _ZERO_LIMIT))
    return np.where(k > 0, pos, np.where(k < 0, neg, MIN_VALUE))


def bucket_mid(keys: IntArray) -> FloatArray:
    """A representative value per bucket (within relative error ``ALPHA`` of every member)."""
    k = np.asarray(keys, dtype=np.int64)
    mag = np.maximum(np.abs(k), _ZERO_LIMIT)
    mid = 0.5 * (_edge(mag) + _edge(mag + 1))
    return np.where(k == 0, 0.0, np.sign(k) * mid)


def _add_counts(keys: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    uniq, inv = np.unique(keys, return_inverse=True)
    summed = np.bincount(inv, weights=counts, minlength=len(uniq)).astype(np.int64)
    return uniq.astype(np.int64), summed


@dataclass(frozen=True)
class NumericSketch:
    """Counts per log bucket plus exact count, null/NaN counts, min, max, sum and sum of squares."""

    keys: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    counts: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    nulls: int = 0
    nans: int = 0
    min: float = math.inf
    max: float = -math.inf
    total: float = 0.0
    total_sq: float = 0.0

    @classmethod
    def from_values(cls, values: npt.ArrayLike, nulls: int = 0) -> NumericSketch:
        """Sketch an array of numbers; NaN and ±inf are counted in ``nans``, not bucketed."""
        x = np.asarray(values, dtype=np.float64).ravel()
        keys, counts, nans = _dense_counts(x)
        if not len(keys):
            return cls(nulls=nulls, nans=nans)
        if nans:
            x = x[np.isfinite(x)]
        return cls(
            keys=keys,
            counts=counts,
            nulls=nulls,
            nans=nans,
            min=float(x.min()),
            max=float(x.max()),
            total=float(x.sum()),
            total_sq=float(np.dot(x, x)),
        )

    @property
    def count(self) -> int:
        """Number of finite values sketched."""
        return int(self.counts.sum())

    @property
    def mean(self) -> float:
        """Exact mean of the finite values (NaN when empty)."""
        return self.total / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation of the finite values (NaN when empty)."""
        n = self.count
        if not n:
            return math.nan
        return math.sqrt(max(self.total_sq / n - self.mean**2, 0.0))

    def merge(self, other: NumericSketch) -> NumericSketch:
        """The sketch of both inputs together (exactly associative and commutative in the counts)."""
        keys, counts = _add_counts(
            np.concatenate([self.keys, other.keys]), np.concatenate([self.counts, other.counts])
        )
        return NumericSketch(
            keys=keys,
            counts=counts,
            nulls=self.nulls + other.nulls,
            nans=self.nans + other.nans,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            total=self.total + other.total,
            total_sq=self.total_sq + other.total_sq,
        )

    def counts_on(self, keys: IntArray) -> FloatArray:
        """This sketch's counts on a sorted superset grid of keys (zeros elsewhere)."""
        out = np.zeros(len(keys), np.float64)
        out[np.searchsorted(keys, self.keys)] = self.counts
        return out

    def quantile(self, q: float) -> float:
        """The ``q``-quantile within relative error ``ALPHA`` (clipped to the exact min/max)."""
        if not 0.0 <= q <= 1.0:
            raise DataError(f"quantile q must be in [0, 1], got {q}")
        if not self.count:
            return math.nan
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, q * cum[-1], side="left"))
        value = float(bucket_mid(self.keys[min(i, len(cum) - 1) : min(i, len(cum) - 1) + 1])[0])
        return min(max(value, self.min), self.max)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "type": "numeric",
            "keys": self.keys.tolist(),
            "counts": self.counts.tolist(),
            "nulls": self.nulls,
            "nans": self.nans,
            "min": self.min if self.count else None,
            "max": self.max if self.count else None,
            "sum": self.total,
            "sum_sq": self.total_sq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSketch:
        """Inverse of :meth:`to_dict`."""
        keys = np.asarray(data["keys"], dtype=np.int64)
        counts = np.asarray(data["counts"], dtype=np.int64)
        if keys.shape != counts.shape:
            raise DataError(f"numeric sketch: {len(keys)} keys but {len(counts)} counts")
        return cls(
            keys=keys,
            counts=counts,
            nulls=int(data.get("nulls", 0)),
            nans=int(data.get("nans", 0)),
            min=math.inf if data.get("min") is None else float(data["min"]),
            max=-math.inf if data.get("max") is None else float(data["max"]),
            total=float(data.get("sum", 0.0)),
            total_sq=float(data.get("sum_sq", 0.0)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericSketch):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class CategoricalSketch:
    """Exact counts per category (booleans as ``"true"``/``"false"``) plus the null count."""

    counts: dict[str, int] = field(default_factory=dict)
    nulls: int = 0

    @classmethod
    def from_arrow(cls, column: pa.Array | pa.ChunkedArray) -> CategoricalSketch:
        """Count an Arrow column's values (nulls counted apart), vectorised."""
        counts: dict[str, int] = {}
        for item in pc.value_counts(column.drop_null() if column.null_count else column).to_pylist():
            key = _cat(item["values"])
            counts[key] = counts.get(key, 0) + int(item["counts"])
        return cls(counts=dict(sorted(counts.items())), nulls=column.null_count)

    @classmethod
    def from_values(cls, values: list[Any]) -> CategoricalSketch:
        """Count a list of values (``None`` is a null).

        >>> CategoricalSketch.from_values(["a", "b", "a", None]).to_dict()
        {'type': 'categorical', 'counts': {'a': 2, 'b': 1}, 'nulls': 1}
        """
        return cls.from_arrow(pa.array(values))

    @property
    def count(self) -> int:
        """Number of non-null values."""
        return sum(self.counts.values())

    def merge(self, other: CategoricalSketch) -> CategoricalSketch:
        """The sketch of both inputs together."""
        merged = dict(self.counts)
        for k, v in other.counts.items():
            merged[k] = merged.get(k, 0) + v
        return CategoricalSketch(counts=dict(sorted(merged.items())), nulls=self.nulls + other.nulls)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"type": "categorical", "counts": dict(sorted(self.counts.items())), "nulls": self.nulls}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalSketch:
        """Inverse of :meth:`to_dict`."""
        return cls(
            counts={str(k): int(v) for k, v in data["counts"].items()}, nulls=int(data.get("nulls", 0))
        )


def _cat(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def sketch_from_dict(data: dict[str, Any]) -> NumericSketch | CategoricalSketch:
    """Rebuild either kind of sketch from its ``to_dict`` form."""
    kind = data.get("type")
    if kind == "numeric":
        return NumericSketch.from_dict(data)
    if kind == "categorical":
        return CategoricalSketch.from_dict(data)
    raise DataError(f"unknown sketch type {kind!r} (expected 'numeric' or 'categorical')")
