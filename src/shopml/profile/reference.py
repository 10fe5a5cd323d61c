"""The reference profile: mergeable per-feature sketches, a bounded row sample and the score sketch.

A :class:`Profile` is what monitoring compares production against instead of the raw training data.
It holds, per model input feature, a :class:`~shopml.profile.sketch.NumericSketch` (numeric) or a
:class:`~shopml.profile.sketch.CategoricalSketch` (categorical, boolean); the row count; counts of
values that were not of the declared type; optionally the sketch of the model's scores; and a uniform
row sample of bounded size (rows keep a random priority and a merge keeps the lowest ones, so the sample
merges associatively too) that feeds exact tests on small data and the domain classifier.

>>> from shopml.schema import FeatureSpec, Schema
>>> schema = Schema(features=[FeatureSpec(name="amount", kind="numeric"),
...                           FeatureSpec(name="country", kind="categorical")])
>>> t = pa.table({"amount": [1.0, 2.5, None], "country": ["DE", "FR", "DE"]})
>>> p = build_profile(t, schema)
>>> (p.rows, p.features["amount"].nulls, p.features["country"].counts)
(3, 1, {'DE': 2, 'FR': 1})
>>> Profile.from_json(p.to_json()) == p
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import DataError, NotFoundError, SchemaError
from shopml.profile.sketch import CategoricalSketch, NumericSketch, sketch_from_dict
from shopml.schema import FeatureKind, Schema

__all__ = [
    "PROFILE_FORMAT",
    "PROFILE_VERSION",
    "Columns",
    "Profile",
    "build_profile",
    "float_values",
    "numeric_column",
]

PROFILE_FORMAT = "shopml.profile"
PROFILE_VERSION = 1
PRIORITY = "__priority__"
SCORE_COLUMN = "score"
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*$|^(?i:nan|inf|-inf)$"

Sketch = NumericSketch | CategoricalSketch


@dataclass(frozen=True)
class Profile:
    """Summaries of one data set (or of several merged); see the module docstring."""

    schema: Schema
    rows: int
    features: dict[str, Sketch]
    scores: NumericSketch | None = None
    type_errors: dict[str, int] = field(default_factory=dict)
    sample: pa.Table | None = None
    sample_size: int = 1000

    # --- combining -------------------------------------------------------------------------
    def merge(self, other: Profile) -> Profile:
        """The profile of both data sets together (same features required)."""
        if set(self.features) != set(other.features):
            only_a = sorted(set(self.features) - set(other.features))
            only_b = sorted(set(other.features) - set(self.features))
            raise SchemaError(
                f"cannot merge profiles: features only in the first {only_a}, only in the second {only_b}"
            )
        feats: dict[str, Sketch] = {}
        for name, sk in self.features.items():
            o = other.features[name]
            if type(o) is not type(sk):
                raise SchemaError(
                    f"cannot merge profiles: feature '{name}' is {_kind(sk)} in one, {_kind(o)} in the other"
                )
            feats[name] = sk.merge(o)  # type: ignore[arg-type]
        scores = self.scores
        if other.scores is not None:
            scores = other.scores if scores is None else scores.merge(other.scores)
        errors = dict(self.type_errors)
        for k, v in other.type_errors.items():
            errors[k] = errors.get(k, 0) + v
        size = min(self.sample_size, other.sample_size)
        return Profile(
            schema=self.schema,
            rows=self.rows + other.rows,
            features=feats,
            scores=scores,
            type_errors=dict(sorted(errors.items())),
            sample=_merge_samples(self.sample, other.sample, size),
            sample_size=size,
        )

    @property
    def sample_is_complete(self) -> bool:
        """True when the sample holds every row (then tests on it are exact)."""
        return self.sample is not None and self.sample.num_rows == self.rows

    # --- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (stable key order, versioned)."""
        sample = None
        if self.sample is not None:
            sample = {name: self.sample.column(name).to_pylist() for name in self.sample.column_names}
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "schema": self.schema.to_dict(),
            "features": {name: sk.to_dict() for name, sk in self.features.items()},
            "scores": None if self.scores is None else self.scores.to_dict(),
            "type_errors": self.type_errors,
            "sample_size": self.sample_size,
            "sample": sample,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; errors name what is wrong."""
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise DataError(f"not a shopml profile (expected format '{PROFILE_FORMAT}')")
        if int(data.get("version", 0)) > PROFILE_VERSION:
            raise DataError(f"profile version {data['version']} is newer than supported {PROFILE_VERSION}")
        schema = Schema.from_dict(data["schema"], source="profile schema")
        feats = {name: sketch_from_dict(d) for name, d in data["features"].items()}
        sample = None
        if data.get("sample") is not None:
            types = {f.name: _arrow_type(f.kind) for f in schema.features}
            types[PRIORITY] = pa.float64()
            sample = pa.table({n: pa.array(v, type=types.get(n)) for n, v in data["sample"].items()})
        return cls(
            schema=schema,
            rows=int(data["rows"]),
            features=feats,
            scores=None if data.get("scores") is None else NumericSketch.from_dict(data["scores"]),
            type_errors={str(k): int(v) for k, v in data.get("type_errors", {}).items()},
            sample=sample,
            sample_size=int(data.get("sample_size", 1000)),
        )

    def to_json(self) -> str:
        """Stable JSON text."""
        return json.dumps(self.to_dict(), allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        """Inverse of :meth:`to_json`."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise DataError(f"profile is not valid JSON: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write as JSON (e.g. ``reference_profile.json`` in a model bundle)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        """Read a profile written by :meth:`save`."""
        p = Path(path)
        if not p.exists():
            raise NotFoundError(f"profile file {p} does not exist")
        return cls.from_json(p.read_text(encoding="utf-8"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


class Columns(Protocol):
    """What :func:`build_profile` reads: a :class:`pyarrow.Table`, or anything that hands out one column
    at a time (a Parquet row group decoded column by column keeps one column in memory, not all)."""

    @property
    def column_names(self) -> list[str]: ...

    @property
    def num_rows(self) -> int: ...

    def column(self, name: str) -> pa.ChunkedArray: ...


def build_profile(
    table: Columns,
    schema: Schema,
    scores: npt.ArrayLike | None = None,
    *,
    sample_size: int = 1000,
    seed: int | np.random.SeedSequence = 0,
) -> Profile:
    """Profile ``table``'s model input features (numeric, categorical, boolean) as ``schema`` declares.

    ``scores`` (the model's scores on these rows) default to a ``score`` column when the table has one.
    Columns are read one at a time and dropped once sketched and sampled. Raises :class:`SchemaError`
    naming any input feature the table lacks.
    """
    if sample_size < 0:
        raise DataError(f"sample_size must be >= 0, got {sample_size}")
    inputs = [f for f in schema.input_features if f.name != SCORE_COLUMN]
    names = table.column_names
    missing = [f.name for f in inputs if f.name not in names]
    if missing:
        raise SchemaError(f"table lacks input features {missing} (has {names})")
    feats: dict[str, Sketch] = {}
    errors: dict[str, int] = {}
    rows = table.num_rows
    keep, priority = _sample_rows(rows, sample_size, np.random.default_rng(seed))
    sampled: dict[str, pa.ChunkedArray] = {}
    for spec in inputs:
        col = table.column(spec.name)
        if spec.kind == FeatureKind.NUMERIC:
            col, bad = numeric_column(col, spec.name)
            if bad:
                errors[spec.name] = bad
            values = float_values(col)
            feats[spec.name] = NumericSketch.from_values(values, nulls=col.null_count)
        else:
            if spec.kind == FeatureKind.CATEGORICAL and not _is_text(col.type):
                col = col.cast(pa.string())  # dictionary-encoded strings are counted on their codes
            feats[spec.name] = CategoricalSketch.from_arrow(col)
        if keep is not None:
            sampled[spec.name] = _plain(col.take(_arrow(keep)))
        del col
    if scores is None and SCORE_COLUMN in names:
        score_col, _ = numeric_column(table.column(SCORE_COLUMN), SCORE_COLUMN)
        scores = float_values(score_col)
    score_sketch = None if scores is None else NumericSketch.from_values(np.asarray(scores, dtype=np.float64))
    sample = None
    if keep is not None and priority is not None:
        sampled[PRIORITY] = pa.chunked_array([_arrow(priority)])
        sample = pa.table(sampled)
    return Profile(
        schema=Schema(features=tuple(inputs)),
        rows=rows,
        features=feats,
        scores=score_sketch,
        type_errors=errors,
        sample=sample,
        sample_size=sample_size,
    )


def float_values(col: pa.ChunkedArray | pa.Array, *, nulls: str = "drop") -> npt.NDArray[np.float64]:
    """A float64 Arrow column as one NumPy array, read off the data buffers (Arrow's own ``to_numpy``
    imports pandas, ~0.25 s of a command's start-up); ``nulls`` "drop" or "nan" (kept as NaN)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    parts = []
    for chunk in chunks:
        if chunk.type != pa.float64():
            chunk = chunk.cast(pa.float64())
        if chunk.null_count and nulls == "drop":
            chunk = chunk.drop_null()
        if not len(chunk):
            continue
        validity, data = chunk.buffers()[:2]
        x = np.frombuffer(data, np.float64, count=len(chunk), offset=chunk.offset * 8)
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
            x = np.where(bits[chunk.offset : chunk.offset + len(chunk)].astype(bool), x, np.nan)
        parts.append(x)
    if not parts:
        return np.zeros(0, np.float64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def numeric_column(col: pa.ChunkedArray | pa.Array, name: str = "column") -> tuple[pa.ChunkedArray, int]:
    """``col`` as float64 plus the number of values that are not numbers (those become null)."""
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col])
    t = col.type
    if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        return col.cast(pa.float64()), 0
    if pa.types.is_dictionary(t):
        col = col.cast(pa.string())
        t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        ok = pc.match_substring_regex(col, _NUMBER)
        bad = int(pc.sum(pc.invert(ok)).as_py() or 0)
        blank = pc.equal(pc.utf8_trim_whitespace(col), "")
        clean = pc.if_else(pc.or_kleene(pc.invert(ok), blank), pa.scalar(None, pa.string()), col)
        return pc.cast(pc.utf8_trim_whitespace(clean), pa.float64()), bad
    raise SchemaError(f"feature '{name}' is numeric in the schema but has Arrow type {t}")


def _sample_rows(
    rows: int, size: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.float64] | None]:
    """The sampled rows (in priority order) and their priorities; ``(None, None)`` when ``size`` is 0."""
    if size == 0:
        return None, None
    priority = rng.random(rows)
    if rows > size:
        # the `size` smallest priorities: pre-filter below a cut that keeps ~2x as many, then partition
        keep = np.flatnonzero(priority < min(1.0, 2.0 * size / rows + 1e-3))
        if len(keep) < size:
            keep = np.arange(rows)
        keep = keep[np.argpartition(priority[keep], size - 1)[:size]]
    else:
        keep = np.arange(rows)
    keep = keep[np.argsort(priority[keep])].astype(np.int64)
    return keep, priority[keep]


def _arrow(x: npt.NDArray[Any]) -> pa.Array:
    """A null-free int64/float64 NumPy array as an Arrow array over the same memory (``pa.array``
    would import pandas to check whether ``x`` is a pandas object)."""
    x = np.ascontiguousarray(x)
    kind = pa.int64() if x.dtype == np.int64 else pa.float64()
    return pa.Array.from_buffers(kind, len(x), [None, pa.py_buffer(x)])


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type))


def _plain(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A sample column without dictionary encoding (samples of several batches concatenate)."""
    return col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col


def _merge_samples(a: pa.Table | None, b: pa.Table | None, size: int) -> pa.Table | None:
    if a is None or b is None:
        return a if b is None else b
    both = pa.concat_tables([a, b.select(a.column_names)]).combine_chunks()
    order = pc.sort_indices(both, sort_keys=[(PRIORITY, "ascending")])
    return both.take(order.slice(0, size))


def _arrow_type(kind: FeatureKind) -> pa.DataType:
    return {FeatureKind.NUMERIC: pa.float64(), FeatureKind.BOOLEAN: pa.bool_()}.get(kind, pa.string())


def _kind(sk: Sketch) -> str:
    return "numeric" if isinstance(sk, NumericSketch) else "categorical"
