"""End to end: bundle, report, profile and registry; bad inputs fail clearly and register nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shopml.config import Workspace
from shopml.errors import ConfigError, DataError, InsufficientDataError, ModelError
from shopml.profile import Profile
from shopml.registry import ModelBundle, Registry
from shopml.train import STRATEGIES, TrainConfig, load_train_config, onnx_feeds, train

Small = Callable[..., TrainConfig]


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory, sim_dir: Path, small_config: Small):  # type: ignore[no-untyped-def]
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    result = train(
        small_config(sim_dir, imbalance="auto", split={"gap_days": 0.5, "cv_folds": 3}), workspace=ws
    )
    return ws, result


def test_registers_a_champion_with_a_complete_bundle(registered) -> None:  # type: ignore[no-untyped-def]
    ws, result = registered
    assert result.version is not None and result.version.aliases == ["champion"]
    reg = Registry(ws)
    assert reg.aliases("fraud") == {"champion": 1}
    bundle = ModelBundle.load(result.bundle_dir)
    meta = bundle.meta
    assert meta.inputs and "fraud_pattern" not in meta.inputs and "customer_id" not in meta.inputs
    assert {meta.id_column, meta.time_column, meta.target} <= set(bundle.schema.names)
    assert 0 < meta.threshold < 1 and meta.metrics["pr_auc_low"] <= meta.metrics["pr_auc"]
    assert meta.lineage["data_fingerprint"].startswith("sha256:") and meta.lineage["seed"] == 42
    assert "xgboost" in meta.lineage["libraries"]
    profile = Profile.load(bundle.profile_path)
    assert profile is not None
    assert bundle.pipeline_path.is_file()
    assert result.parity_max_abs_diff <= 1e-5


def test_onnx_bundle_serves_scores_like_the_contract(registered, transactions: pa.Table) -> None:  # type: ignore[no-untyped-def]
    _, result = registered
    bundle = ModelBundle.load(result.bundle_dir)
    session = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    from shopml.train import to_frame

    kinds = bundle.input_kinds()
    frame = to_frame(transactions.slice(0, 50), bundle.meta.inputs, kinds)
    (score,) = session.run(["score"], onnx_feeds(frame, bundle.meta.inputs, kinds))
    np.testing.assert_allclose(score.reshape(-1), result.model.scores(frame), atol=1e-5)


def test_auto_compares_every_strategy_and_reports_it(registered) -> None:  # type: ignore[no-untyped-def]
    ws, result = registered
    assert [r["strategy"] for r in result.imbalance_table] == list(STRATEGIES)
    assert sum(r["selected"] for r in result.imbalance_table) == 1
    best = max(result.imbalance_table, key=lambda r: r["pr_auc"])
    assert best["selected"] and result.strategy == best["strategy"]
    assert result.cv is not None and len(result.cv["folds"]) >= 1
    html = result.report_path.read_text()
    assert result.report_path.parent == ws.reports_dir
    assert "<script src=" not in html and "plotly" in html.lower()
    for text in (
        "Imbalance strategies",
        "Fit diagnosis",
        "smote_tomek",
        "Calibration",
        "Learning curve",
        "Feature importance",
        "pr_auc",
        result.diagnosis.verdict,
    ):
        assert text in html, text


def test_second_run_is_challenger(registered, sim_dir: Path, small_config: Small) -> None:  # type: ignore[no-untyped-def]
    ws, _ = registered
    again = train(small_config(sim_dir, imbalance="class_weight", objective="cost", seed=7), workspace=ws)
    assert again.version.version == 2 and again.version.aliases == ["challenger"]
    assert again.objective == "min_cost"


def test_own_data_from_csv_config(tmp_path: Path, transactions: pa.Table) -> None:
    import pyarrow.csv as pacsv

    table = transactions.drop_columns(["fraud_pattern", "label_available_at"]).rename_columns(
        [
            {"is_fraud": "label", "event_time": "ts"}.get(c, c)
            for c in transactions.drop_columns(["fraud_pattern", "label_available_at"]).column_names
        ]
    )
    table = table.set_column(table.column_names.index("ts"), "ts", pc.strftime(table.column("ts")))
    pacsv.write_csv(table, tmp_path / "mine.csv")
    (tmp_path / "cfg.yaml").write_text(
        "table: mine.csv\ntarget: label\ntime_column: ts\nid_column: transaction_id\nname: my-model\n"
        "drop_columns: [customer_id]\nschema_overrides: {hour: {kind: categorical}}\n"
        "model: {n_estimators: 30, max_depth: 3, n_jobs: 1}\nsearch: {n_trials: 1}\nbootstrap: 20\n"
        "learning_curve_sizes: [1.0]\nsplit: {gap_days: 0.5}\n"
    )
    out = tmp_path / "bundle"
    result = train(load_train_config(tmp_path / "cfg.yaml"), out_dir=out)
    assert result.version is None and result.bundle_dir == out
    meta = ModelBundle.load(out).meta
    assert meta.name == "my-model" and meta.target == "label"
    assert ModelBundle.load(out).input_kinds()["hour"] == "categorical"


def _bad(small_config: Small, tmp_path: Path, table: pa.Table) -> None:
    train(small_config(tmp_path), table=table, workspace=Workspace(tmp_path / "ws"))


def test_missing_target_column(tmp_path: Path, transactions: pa.Table, small_config: Small) -> None:
    with pytest.raises(DataError, match="target 'is_fraud' is not a column"):
        _bad(small_config, tmp_path, transactions.drop_columns(["is_fraud"]))


def test_single_class(tmp_path: Path, transactions: pa.Table, small_config: Small) -> None:
    zeros = pa.array(np.zeros(transactions.num_rows, dtype=np.int8))
    with pytest.raises(InsufficientDataError, match="single class"):
        _bad(small_config, tmp_path, transactions.set_column(13, "is_fraud", zeros))


def test_no_recent_positives_is_named(tmp_path: Path, transactions: pa.Table, small_config: Small) -> None:
    """No positive after day 20: the test period grows back to 45% of the rows and still has none."""
    t = transactions.column("event_time")
    late = pc.greater(t, pc.min(t).as_py().replace(day=20))
    y = pc.if_else(late, pa.scalar(0, pa.int8()), transactions.column("is_fraud"))
    with pytest.raises(InsufficientDataError, match="no positives in the test period"):
        _bad(small_config, tmp_path, transactions.set_column(13, "is_fraud", y))


def test_sampler_that_cannot_work_is_named(
    tmp_path: Path, small_config: Small, make_transactions: Callable[..., pa.Table]
) -> None:
    frequent = make_transactions(n=1500, fraud_rate=0.6)  # already above the 0.1 sampling ratio
    with pytest.raises(InsufficientDataError, match="imbalance strategy 'undersample' failed on this data"):
        train(small_config(tmp_path, imbalance="undersample"), table=frequent)


def test_unreadable_file(tmp_path: Path, small_config: Small) -> None:
    (tmp_path / "transactions.parquet").write_text("not parquet")
    cfg = small_config(tmp_path).model_copy(update={"table": tmp_path / "transactions.parquet"})
    with pytest.raises(DataError, match="cannot read as parquet"):
        train(cfg)


def test_unknown_task() -> None:
    from shopml.train import preset

    with pytest.raises(ConfigError, match="unknown task"):
        preset("recs", "x")


def test_parity_failure_registers_nothing(
    tmp_path: Path, transactions: pa.Table, small_config: Small
) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(ModelError, match="parity check failed"):
        train(small_config(tmp_path, parity_tolerance=1e-15), table=transactions, workspace=ws)
    assert not any((ws.root / "bundles" / "fraud").iterdir())
    assert Registry(ws).list_models() == []
