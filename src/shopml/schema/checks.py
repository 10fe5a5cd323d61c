"""The per-feature checks, written once: used by the serving codec, by record and table validation and
so by training's data loading.

A :class:`FeatureCheck` is compiled from a :class:`~shopml.schema.FeatureSpec` (kind, nullability, NaN,
bounds, allowed categories). The column functions (:func:`check_numbers`, :func:`check_categories`,
:func:`check_booleans`, :func:`check_strings`, :func:`parse_times`) take one feature's values in row
order, append every problem to a list and return the converted values; the serving codec's fast row
path uses the same :class:`FeatureCheck` bounds and category sets and defers to these functions for
anything unusual. Every problem reads the same way, with the value shown as JSON (bounded, never a
``repr`` of an arbitrary client object):

>>> problems: list[str] = []
>>> check_numbers(FeatureCheck(name="amount", kind=FeatureKind.NUMERIC), [1, "12,50"], problems)
[1.0, nan]
>>> print(problems[0])
feature 'amount' must be a number, got "12,50" (row 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from shopml.schema.model import FeatureKind, FeatureSpec

__all__ = [
    "FLOAT32_MAX",
    "MISSING",
    "UNKNOWN",
    "FeatureCheck",
    "check_booleans",
    "check_categories",
    "check_numbers",
    "check_strings",
    "parse_time",
    "parse_times",
    "problem",
    "range_text",
    "show",
]

#: Largest finite float32: served numbers must fit the models' float32 inputs.
FLOAT32_MAX = 3.4028234663852886e38
#: The served stand-in for a category the model never saw (and for a null category).
UNKNOWN = ""
#: A value absent from its row (``row.get(name, MISSING)``), as opposed to an explicit null.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_SHOW_MAX = 60


def show(value: Any) -> str:
    """A client value as it appears in a message: JSON text, at most ~60 characters, never recursive.

    >>> show("12,50"), show(None), show(True), show(1.5), show([[[1]]])
    ('"12,50"', 'null', 'true', '1.5', 'a list of 1 item')
    """
    if value is MISSING:
        return "nothing"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"an object with {len(value)} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        text = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # not JSON: an int beyond 64 bits, a date, an object
        text = f"a value of type {type(value).__name__}"
    if len(text) <= _SHOW_MAX:
        return text
    return text[: _SHOW_MAX - 4] + ('..."' if text[0] == '"' else "...")


def problem(name: str, text: str, row: int | None = None, what: str = "feature") -> str:
    """One problem in the one format: ``feature 'amount' must be a number, got "12,50" (row 3)``."""
    return f"{what} '{name}' {text}" + ("" if row is None else f" (row {row})")


def range_text(lo: float | None, hi: float | None) -> str:
    """``in [0, 10]``, ``>= 0`` or ``<= 10`` for declared bounds."""
    if lo is not None and hi is not None:
        return f"in [{lo:g}, {hi:g}]"
    return f">= {lo:g}" if lo is not None else f"<= {hi:g}"


@dataclass(frozen=True, slots=True)
class FeatureCheck:
    """What one feature accepts, compiled once from its spec."""

    name: str
    kind: FeatureKind
    nullable: bool = False
    allow_nan: bool = False
    lo: float | None = None
    hi: float | None = None
    categories: frozenset[str] | None = None

    @classmethod
    def of(cls, spec: FeatureSpec) -> FeatureCheck:
        """The checks a schema column declares."""
        cats = frozenset(spec.categories) if spec.categories is not None else None
        return cls(spec.name, spec.kind, spec.nullable, spec.allow_nan, spec.min, spec.max, cats)

    @property
    def fast_bounds(self) -> tuple[float, float]:
        """Bounds for one chained comparison ``lo <= v <= hi`` that is false for NaN, for values beyond
        float32 and for values outside the declared range (the fast path's whole numeric check)."""
        lo = -FLOAT32_MAX if self.lo is None else max(self.lo, -FLOAT32_MAX)
        hi = FLOAT32_MAX if self.hi is None else min(self.hi, FLOAT32_MAX)
        return lo, hi

    def absent(self, v: Any, row: int, problems: list[str]) -> None:
        """The problem, if any, with a null or missing value."""
        if v is MISSING:
            problems.append(f"missing feature '{self.name}' (row {row})")
        elif not self.nullable:
            problems.append(problem(self.name, "must not be null", row))


def check_numbers(
    c: FeatureCheck, values: list[Any], problems: list[str], limit: float = FLOAT32_MAX
) -> list[float]:
    """Numbers (int or float, not bool) → floats (null → NaN); NaN, non-finite (beyond ``limit``) and
    out-of-range values are problems."""
    out: list[float] = []
    lo, hi, name = c.lo, c.hi, c.name
    for i, v in enumerate(values):
        t = type(v)
        if t is float or t is int:
            f = float(v)
            if f != f:
                if not c.allow_nan:
                    problems.append(problem(name, "must not be NaN", i))
            elif f - f != 0.0 or not -limit <= f <= limit:  # inf - inf is NaN
                problems.append(problem(name, f"must be a finite number, got {show(v)}", i))
            elif (lo is not None and f < lo) or (hi is not None and f > hi):
                problems.append(problem(name, f"must be {range_text(lo, hi)}, got {show(v)}", i))
            out.append(f)
            continue
        if v is None or v is MISSING:
            c.absent(v, i, problems)
        else:
            problems.append(problem(name, f"must be a number, got {show(v)}", i))
        out.append(math.nan)
    return out


def check_categories(
    c: FeatureCheck, values: list[Any], problems: list[str]
) -> tuple[list[str], list[Any], int]:
    """Categories (strings; ints taken as their text) → (served values, values as given, unseen count).

    A category outside the declared set is served as :data:`UNKNOWN` and counted, not refused: the
    caller decides whether unseen categories are a problem (training) or a metric (serving)."""
    served: list[str] = []
    shown: list[Any] = []
    unseen = 0
    cats = c.categories
    for i, v in enumerate(values):
        t = type(v)
        if t is str or t is int:
            s = v if t is str else str(v)
            shown.append(s)
            if cats is not None and s not in cats:
                unseen += 1
                s = UNKNOWN
            served.append(s)
            continue
        if v is None or v is MISSING:
            c.absent(v, i, problems)
        else:
            problems.append(problem(c.name, f"must be a category (string), got {show(v)}", i))
        served.append(UNKNOWN)
        shown.append(None)
    return served, shown, unseen


def check_booleans(c: FeatureCheck, values: list[Any], problems: list[str]) -> list[bool | None]:
    """Booleans (true/false, or the integers 0/1) → bools (null → None)."""
    out: list[bool | None] = []
    for i, v in enumerate(values):
        if v is True or v is False:
            out.append(v)
            continue
        if type(v) is int and v in (0, 1):
            out.append(bool(v))
            continue
        if v is None or v is MISSING:
            c.absent(v, i, problems)
        else:
            problems.append(problem(c.name, f"must be a boolean, got {show(v)}", i))
        out.append(None)
    return out


def check_strings(
    name: str, values: list[Any], problems: list[str], what: str = "feature", nullable: bool = True
) -> list[str | None]:
    """Identifiers and text (strings; ints taken as their text) → strings (null → None)."""
    out: list[str | None] = []
    for i, v in enumerate(values):
        t = type(v)
        if t is str:
            out.append(v)
        elif t is int:
            out.append(str(v))
        else:
            if v is not None or not nullable:
                problems.append(problem(name, f"must be a string, got {show(v)}", i, what))
            out.append(None)
    return out


def parse_time(v: Any) -> datetime:
    """An ISO-8601 string → an aware UTC datetime; ValueError for anything else (including a time whose
    UTC form falls outside years 1–9999, which ``astimezone`` would raise as OverflowError)."""
    if type(v) is not str:
        raise ValueError(v)
    ts = datetime.fromisoformat(v)
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise ValueError(v) from None


def parse_times(
    name: str, values: list[Any], problems: list[str], what: str = "field"
) -> list[datetime | None]:
    """ISO-8601 timestamps → aware UTC datetimes (null → None)."""
    out: list[datetime | None] = []
    for i, v in enumerate(values):
        if v is None or v is MISSING:
            out.append(None)
            continue
        try:
            out.append(parse_time(v))
        except ValueError:
            problems.append(problem(name, f"must be an ISO-8601 timestamp, got {show(v)}", i, what))
            out.append(None)
    return out
