"""The per-feature checks: one message format for serving, records, tables and training's data loading."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopml.errors import SchemaError
from shopml.schema import FeatureKind, FeatureSpec, Schema, validate
from shopml.schema.checks import (
    MISSING,
    UNKNOWN,
    FeatureCheck,
    check_booleans,
    check_categories,
    check_numbers,
    parse_time,
    parse_times,
    show,
)

AMOUNT = FeatureCheck.of(FeatureSpec(name="amount", kind="numeric", min=0, max=100))
COUNTRY = FeatureCheck.of(FeatureSpec(name="country", kind="categorical", categories=("DE", "FR")))


def test_one_message_format_per_problem() -> None:
    problems: list[str] = []
    check_numbers(AMOUNT, [5, "12,50", None, MISSING, -1, math.nan, 1e39, True], problems)
    assert problems == [
        "feature 'amount' must be a number, got \"12,50\" (row 1)",
        "feature 'amount' must not be null (row 2)",
        "missing feature 'amount' (row 3)",
        "feature 'amount' must be in [0, 100], got -1 (row 4)",
        "feature 'amount' must not be NaN (row 5)",
        "feature 'amount' must be a finite number, got 1e+39 (row 6)",
        "feature 'amount' must be a number, got true (row 7)",
    ]


def test_unseen_categories_are_served_as_unknown_and_counted() -> None:
    problems: list[str] = []
    served, shown, unseen = check_categories(COUNTRY, ["DE", "XX", 7, None, ["DE"]], problems)
    assert served == ["DE", UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN] and shown[:3] == ["DE", "XX", "7"]
    assert unseen == 2
    assert problems == [
        "feature 'country' must not be null (row 3)",
        "feature 'country' must be a category (string), got a list of 1 item (row 4)",
    ]
    flags = check_booleans(FeatureCheck(name="b", kind=FeatureKind.BOOLEAN), [True, 0, 2], problems)
    assert flags == [True, False, None] and problems[-1] == "feature 'b' must be a boolean, got 2 (row 2)"


def test_times_parse_to_utc_and_overflow_is_a_problem() -> None:
    assert parse_time("2026-01-01T10:00:00+02:00") == datetime(2026, 1, 1, 8, tzinfo=UTC)
    problems: list[str] = []
    out = parse_times("event_time", ["0001-01-01T00:00:00+14:00", "soon", None], problems)
    assert out == [None, None, None]
    assert problems == [
        "field 'event_time' must be an ISO-8601 timestamp, got \"0001-01-01T00:00:00+14:00\" (row 0)",
        "field 'event_time' must be an ISO-8601 timestamp, got \"soon\" (row 1)",
    ]


def test_show_is_bounded_and_never_recursive() -> None:
    deep: Any = "x"
    for _ in range(sys.getrecursionlimit() + 100):
        deep = [deep]
    assert show(deep) == "a list of 1 item"
    assert show({"a": deep}) == "an object with 1 key"
    assert len(show("y" * 10_000)) <= 60 and show("y" * 10_000).endswith('..."')
    assert show(2**80) == "a value of type int"


@given(st.lists(st.one_of(st.none(), st.integers(-(2**53), 2**53), st.floats(), st.text(max_size=5))))
def test_records_and_tables_agree_with_the_codec_checks(values: list[Any]) -> None:
    """A numeric feature's problems are the same through records validation and the column check."""
    spec = FeatureSpec(name="x", kind="numeric", nullable=True, allow_nan=True, min=-10.0)
    direct: list[str] = []
    check_numbers(FeatureCheck.of(spec), values, direct, limit=math.inf)
    schema = Schema(features=(spec,))
    assert validate([{"x": v} for v in values], schema, raise_errors=False).errors == direct


def _table_config(tmp_path: Path, overrides: dict[str, Any]) -> Any:
    from shopml.train.config import TrainConfig

    n = 40
    table = pa.table(
        {
            "ts": pa.array([datetime(2026, 1, 1 + i % 28, tzinfo=UTC) for i in range(n)]),
            "amount": [float(i) for i in range(n)],
            "country": ["DE", "FR", "XX", "DE"] * (n // 4),
            "y": [i % 2 for i in range(n)],
        }
    )
    cfg = TrainConfig(table=tmp_path / "t.parquet", target="y", time_column="ts", schema_overrides=overrides)
    return cfg, table


def test_training_data_is_checked_against_the_declared_schema(tmp_path: Path) -> None:
    from shopml.train import load_dataset

    cfg, table = _table_config(tmp_path, {"amount": {"max": 30}})
    declared = r"t\.parquet: feature 'amount' must be <= 30, got 3\d\.0 and 8 more \(row \d+\)"
    with pytest.raises(SchemaError, match=declared):
        load_dataset(cfg, table)
    cfg, table = _table_config(tmp_path, {"country": {"categories": ["DE", "FR"]}})
    with pytest.raises(SchemaError, match=r"feature 'country' has categories \['XX'\] outside its declared"):
        load_dataset(cfg, table)
    cfg, table = _table_config(tmp_path, {})
    assert load_dataset(cfg, table).inputs == ["amount", "country"]
