import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopml.errors import ConfigError, DataError, SchemaError
from shopml.schema import FeatureKind, FeatureSpec, Schema, infer_schema, read_table, validate

TABLE = pa.table(
    {
        "transaction_id": ["t1", "t2", "t3"],
        "ts": pa.array([0, 1, 2], pa.timestamp("s")),
        "amount": [10.0, 20.5, 3.0],
        "country": ["DE", "FR", "DE"],
        "is_new_device": [True, False, True],
        "is_fraud": [0, 1, 0],
    }
)


def test_infer_kinds() -> None:
    s = infer_schema(TABLE, target="is_fraud")
    assert [f.kind for f in s.features] == [
        FeatureKind.ID,
        FeatureKind.TIMESTAMP,
        FeatureKind.NUMERIC,
        FeatureKind.CATEGORICAL,
        FeatureKind.BOOLEAN,
        FeatureKind.TARGET,
    ]
    assert s["country"].categories == ("DE", "FR")
    assert s.target == "is_fraud"
    assert [f.name for f in s.input_features] == ["amount", "country", "is_new_device"]


def test_infer_from_parquet_csv_and_folder(tmp_path: Path) -> None:
    pq.write_table(TABLE, tmp_path / "a.parquet")
    pcsv.write_csv(TABLE.drop_columns(["ts"]), tmp_path / "b.csv")
    assert infer_schema(tmp_path / "a.parquet").names == TABLE.column_names
    assert infer_schema(tmp_path / "b.csv")["amount"].kind == FeatureKind.NUMERIC
    (tmp_path / "folder" / "date=2026-01-01").mkdir(parents=True)
    pq.write_table(TABLE, tmp_path / "folder" / "date=2026-01-01" / "part.parquet")
    assert read_table(tmp_path / "folder").num_rows == 3


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot read"):
        read_table(bad)
    with pytest.raises(DataError, match="target column 'y'"):
        infer_schema(TABLE, target="y")


def test_overrides_and_yaml(tmp_path: Path) -> None:
    s = infer_schema(TABLE, target="is_fraud", overrides={"amount": {"min": 0, "max": 1e6}})
    assert s["amount"].min == 0
    path = tmp_path / "schema.yaml"
    s.save(path)
    assert Schema.load(path) == s
    path.write_text("features:\n  - name: amount\n    kind: numbr\n")
    with pytest.raises(ConfigError, match="column 'amount' key 'kind'"):
        Schema.load(path)


def test_validate_table_reports_every_kind_of_problem() -> None:
    s = infer_schema(TABLE, target="is_fraud", overrides={"amount": {"min": 0}})
    bad = pa.table(
        {
            "transaction_id": ["t1", "t2"],
            "ts": pa.array([0, 1], pa.timestamp("s")),
            "amount": [float("nan"), -5.0],
            "country": ["DE", "XX"],
            "extra": [1, 2],
        }
    )
    r = validate(bad, s, raise_errors=False)
    text = " | ".join(r.errors)
    assert "missing columns ['is_new_device']" in text
    assert "unexpected columns ['extra']" in text
    assert "feature 'amount' must not be NaN: 1 NaNs (row 0)" in text
    assert "feature 'amount' must be >= 0, got -5.0 and 0 more (row 1)" in text
    assert r.warnings == ["feature 'country' has categories ['XX'] outside its declared ['DE', 'FR'] (row 1)"]
    with pytest.raises(SchemaError, match="missing columns"):
        validate(bad, s)


def test_validate_table_wrong_type_names_value_and_row() -> None:
    s = Schema(features=(FeatureSpec(name="amount", kind="numeric"),))
    t = pa.table({"amount": ["1.5", "2", "x", "12,50"]})
    with pytest.raises(SchemaError, match=r'feature .amount. must be a number, got "x" \(row 2\)'):
        validate(t, s)


def test_validate_records() -> None:
    s = infer_schema(TABLE, target="is_fraud")
    good = {
        "transaction_id": "t9",
        "ts": "2026-01-01T10:00:00",
        "amount": 5,
        "country": "DE",
        "is_new_device": False,
    }
    assert validate([good], s).ok
    r = validate(
        [
            good,
            {**good, "amount": "12,50"},
            {**good, "amount": math.inf},
            {**good, "country": "ZZ"},
            "nope",
        ],
        s,
        raise_errors=False,
    )
    assert "feature 'amount' must be a number, got \"12,50\" (row 1)" in r.errors
    assert "feature 'amount' must be a finite number, got inf (row 2)" in r.errors
    assert "row 4 must be an object of feature values, got str" in r.errors
    assert "missing feature 'amount' (row 4)" in r.errors
    assert r.warnings == ["feature 'country' has categories ['ZZ'] outside its declared ['DE', 'FR'] (row 3)"]
    with pytest.raises(SchemaError, match=r"unexpected fields \['zzz'\]"):
        validate([{**good, "zzz": 1}], s)
    with pytest.raises(SchemaError, match="expected an Arrow table or a list of records"):
        validate("text", s)  # type: ignore[arg-type]


def test_schema_rejects_duplicates_and_two_targets() -> None:
    with pytest.raises(ValueError, match="duplicate column names"):
        Schema(features=(FeatureSpec(name="a", kind="numeric"),) * 2)
    with pytest.raises(ValueError, match="at most one target"):
        Schema(features=(FeatureSpec(name="a", kind="target"), FeatureSpec(name="b", kind="target")))


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def specs(draw: st.DrawFn, name: str) -> FeatureSpec:
    kind = draw(st.sampled_from([k for k in FeatureKind if k != FeatureKind.TARGET]))
    lo = draw(st.none() | finite) if kind == FeatureKind.NUMERIC else None
    hi = draw(st.none() | finite) if kind == FeatureKind.NUMERIC else None
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    cats = None
    if kind == FeatureKind.CATEGORICAL:
        cats = draw(st.none() | st.lists(st.text(max_size=8), unique=True, max_size=5).map(tuple))
    return FeatureSpec(
        name=name,
        kind=kind,
        nullable=draw(st.booleans()),
        allow_nan=draw(st.booleans()),
        min=lo,
        max=hi,
        categories=cats,
    )


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    cols = draw(st.lists(names, unique=True, min_size=1, max_size=6))
    return Schema(features=tuple(draw(specs(c)) for c in cols))


@given(schemas())
def test_schema_round_trips_yaml_and_json(s: Schema) -> None:
    assert Schema.from_yaml(s.to_yaml()) == s
    assert Schema.from_json(s.to_json()) == s
