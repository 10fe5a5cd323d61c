"""compare(): calibration and power, verdicts, bad inputs, streaming, the report's JSON and HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopml.errors import ConfigError, DataError, NotFoundError
from shopml.monitor import DriftConfig, DriftReport, FeatureDrift, FeatureOverride, build_profile, compare
from shopml.schema import FeatureSpec, Schema

SCHEMA = Schema(
    features=(
        *(FeatureSpec(name=f"x{i}", kind="numeric", nullable=True) for i in range(3)),
        FeatureSpec(name="country", kind="categorical"),
        FeatureSpec(name="is_new_device", kind="boolean"),
    )
)
QUIET = DriftConfig(multivariate=False)


def world(n: int, seed: int, shift: float = 0.0, country_p: tuple[float, ...] = (0.5, 0.3, 0.2)) -> pa.Table:
    rng = np.random.default_rng(seed)
    cats = ["DE", "FR", "NL", "XX"][: len(country_p)]
    return pa.table(
        {
            "x0": rng.normal(shift, 1, n),
            "x1": rng.lognormal(3, 1, n),
            "x2": rng.integers(0, 24, n).astype(float),
            "country": rng.choice(cats, n, p=country_p),
            "is_new_device": rng.random(n) < 0.2,
        }
    )


def test_false_alarm_rate_is_calibrated() -> None:
    """200 same-distribution pairs: the any-feature alarm rate matches alpha without the effect floor,
    and stays at or below it with the default floor."""
    alpha, runs = 0.05, 200
    raw = DriftConfig(multivariate=False, alpha=alpha, min_effect_numeric=0.0, min_effect_categorical=0.0)
    alarms_raw = alarms_default = 0
    for seed in range(runs):
        ref, cur = world(300, 2 * seed), world(300, 2 * seed + 1)
        alarms_raw += bool(compare(ref, cur, SCHEMA, config=raw).drifted_features)
        alarms_default += compare(ref, cur, SCHEMA, config=QUIET).verdict != "ok"
    assert abs(alarms_raw / runs - alpha) <= 0.035
    assert alarms_default / runs <= alpha + 0.02


def test_sketch_path_false_alarm_rate_is_calibrated() -> None:
    """The same on the sketch-based tests (forced with exact_max_rows=0): ties from bucketing can only
    make KS conservative."""
    raw = DriftConfig(
        multivariate=False, min_effect_numeric=0.0, min_effect_categorical=0.0, exact_max_rows=0
    )
    reports = [compare(world(1000, 2 * s), world(1000, 2 * s + 1), SCHEMA, config=raw) for s in range(200)]
    assert {f.method for f in reports[0].features if f.kind == "numeric"} == {"sketch"}
    assert sum(bool(r.drifted_features) for r in reports) / 200 <= 0.05 + 0.035


def test_power_on_a_half_sigma_shift() -> None:
    reports = [
        compare(world(5000, s), world(5000, 100 + s, shift=0.5), SCHEMA, config=QUIET) for s in range(5)
    ]
    hits = sum("x0" in r.drifted_features for r in reports)
    assert hits == 5


def test_irrelevant_shift_on_large_windows_is_not_flagged() -> None:
    for s in range(3):
        report = compare(world(100_000, s), world(100_000, 50 + s, shift=0.02), SCHEMA, config=QUIET)
        x0 = report.feature("x0")
        assert x0.method == "sketch" and x0.significant  # the test does reject ...
        assert not x0.drifted and report.verdict == "ok"  # ... but 0.02σ is below the 0.1σ floor


def test_new_category_is_named_and_flagged() -> None:
    report = compare(world(3000, 0), world(3000, 1, country_p=(0.4, 0.25, 0.2, 0.15)), SCHEMA, config=QUIET)
    country = report.feature("country")
    assert country.new_categories == ["XX"] and country.drifted
    assert report.verdict == "drift" and report.drift_share == pytest.approx(0.2)


def test_importance_weights_the_verdict() -> None:
    ref, cur = world(3000, 0), world(3000, 1, shift=0.5)
    cfg = DriftConfig(multivariate=False, share_threshold=0.5)
    assert compare(ref, cur, SCHEMA, config=cfg).verdict == "warning"  # 1 of 5 drifted: below 50%
    heavy = compare(ref, cur, SCHEMA, config=cfg, importance={"x0": 0.6, "x1": 0.2, "country": 0.2})
    assert heavy.verdict == "drift" and heavy.drift_share == pytest.approx(0.6)


def test_per_feature_overrides_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text(
        "multivariate: false\ncorrection: bonferroni\n"
        "features:\n  x0: {test: psi, threshold: 0.3}\n  country: {test: jensenshannon}\n"
    )
    cfg = DriftConfig.from_yaml(path)
    assert cfg.features["x0"] == FeatureOverride(test="psi", threshold=0.3)
    report = compare(world(2000, 0), world(2000, 1, shift=0.3), SCHEMA, config=cfg)
    x0 = report.feature("x0")
    assert (x0.test, x0.threshold, x0.effect_name, x0.min_effect) == ("psi", 0.3, "psi", 0.3)
    assert report.feature("country").test == "jensenshannon" and report.correction == "bonferroni"
    path.write_text("features:\n  x0: {test: kss}\n")
    with pytest.raises(ConfigError, match="unknown drift test 'kss'"):
        DriftConfig.from_yaml(path)
    with pytest.raises(ConfigError, match="does not exist"):
        DriftConfig.from_yaml(tmp_path / "nope.yaml")


def test_multivariate_names_the_separating_features() -> None:
    ref, cur = world(2000, 0), world(2000, 1, shift=0.8)
    multi = compare(ref, cur, SCHEMA).multivariate
    assert multi is not None and multi.drifted and next(iter(multi.top_features)) == "x0"
    assert multi.auc_low is not None and multi.auc_low <= (multi.auc or 0) <= (multi.auc_high or 1)
    quiet = compare(world(2000, 2), world(2000, 3), SCHEMA).multivariate
    assert quiet is not None and not quiet.drifted


def test_quality_checks_and_schema_mismatch() -> None:
    ref = world(2000, 0)
    cur = world(2000, 1)
    x1 = np.asarray(cur.column("x1")).copy()
    x1[:400] = np.nan
    x2 = np.asarray(cur.column("x2")).copy()
    x2[:100] = 1e6
    cur = cur.set_column(1, "x1", pa.array(x1, from_pandas=True)).set_column(2, "x2", pa.array(x2))
    cur = cur.drop_columns(["is_new_device"]).append_column("extra", pa.array(np.ones(2000)))
    report = compare(ref, cur, SCHEMA, config=QUIET)
    checks = {(q.check, q.column) for q in report.quality}
    assert ("null_rate", "x1") in checks and ("out_of_range", "x2") in checks
    assert report.schema_mismatch.missing_in_current == ["is_new_device"]
    assert report.schema_mismatch.unexpected_in_current == ["extra"]
    assert report.feature("is_new_device").verdict == "missing"


def test_type_errors_and_all_null_columns() -> None:
    ref = world(500, 0)
    cur = world(500, 1)
    bad = ["12,50" if i % 10 == 0 else str(v) for i, v in enumerate(cur.column("x1").to_pylist())]
    cur = cur.set_column(1, "x1", pa.array(bad)).set_column(2, "x2", pa.nulls(500, pa.float64()))
    report = compare(ref, cur, SCHEMA, config=QUIET)
    checks = {(q.check, q.column) for q in report.quality}
    assert ("type_errors", "x1") in checks and ("all_null", "x2") in checks
    assert report.feature("x2").verdict == "insufficient_data"


def test_insufficient_data_is_a_verdict_not_a_crash() -> None:
    report = compare(world(1000, 0), world(5, 1), SCHEMA)
    assert report.verdict == "insufficient_data" and "need 30 per side" in report.reasons[0]
    assert {f.verdict for f in report.features} == {"insufficient_data"}
    empty = compare(world(1000, 0), world(0, 1), SCHEMA)
    assert empty.verdict == "insufficient_data"


def test_profile_reference_and_streamed_parquet(tmp_path: Path) -> None:
    """A stored profile vs a Parquet window read in batches gives the sketch-based answer."""
    profile = build_profile(world(20_000, 0), SCHEMA, scores=np.random.default_rng(0).beta(1, 9, 20_000))
    profile.save(tmp_path / "reference_profile.json")
    scores = pa.array(np.random.default_rng(1).beta(2, 5, 12_000))
    cur = world(12_000, 1, shift=0.4).append_column("score", scores)
    pq.write_table(cur, tmp_path / "window.parquet", row_group_size=3000)
    cfg = DriftConfig(batch_rows=5000, exact_max_rows=1000)
    report = compare(tmp_path / "reference_profile.json", tmp_path / "window.parquet", config=cfg)
    x0 = report.feature("x0")
    assert report.n_current == 12_000 and x0.drifted and x0.method == "sketch"
    assert report.prediction is not None and report.prediction.drifted
    assert report.schema_mismatch.unexpected_in_current == []


def test_report_json_round_trip_and_html(tmp_path: Path) -> None:
    report = compare(world(1000, 0), world(1000, 1, shift=0.5), SCHEMA)
    again = DriftReport.from_json(report.to_json())
    assert again == report and again.to_dict()["version"] == 1
    html = report.to_html()
    assert html.count("plotly.js v") == 1 and "x0" in html and "<script src=" not in html
    report.save(tmp_path / "r.json", tmp_path / "r.html")
    assert (tmp_path / "r.html").stat().st_size > 100_000


def test_missing_files_raise() -> None:
    with pytest.raises(DataError, match=r"nope\.parquet does not exist"):
        compare(world(100, 0), Path("nope.parquet"), SCHEMA)
    with pytest.raises(NotFoundError, match=r"profile file nope\.json does not exist"):
        compare("nope.json", world(100, 0))


def test_numbers_without_a_value_are_null_in_json() -> None:
    f = FeatureDrift(
        name="a",
        kind="numeric",
        test="ks",
        method="exact",
        statistic=float("nan"),
        alpha=0.05,
        threshold=0.05,
        effect_name="wasserstein",
        min_effect=0.1,
        verdict="ok",
    )
    assert f.statistic is None and '"statistic":null' in f.model_dump_json()
