"""``shopml train --task recs`` end to end on a tiny world: every model on one split, the GRU through
the guarded loop, the report, the ONNX bundle (parity) and the registry entry with lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.config import Workspace
from shopml.recs.bundle import publish_recs
from shopml.recs.gru import GRUParams
from shopml.recs.train import BASELINES, RecsConfig, fit_and_evaluate
from shopml.registry.bundle import ModelBundle

TINY = GRUParams(embedding=8, hidden=16, batch=256, n_sample=64, max_epochs=1, lr=1e-2)


def test_fit_evaluate_publish(recs_world: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPML_MLFLOW_URI", raising=False)
    cfg = RecsConfig(recs_world, test_days=1, gru=TINY, n_resamples=50, refit=True, valid_sessions=200)
    result = fit_and_evaluate(cfg)
    assert list(result.evaluations) == ["gru", *BASELINES, "oracle"]
    gru = result.evaluations["gru"].metrics["recall@20"]
    assert (
        gru.low <= gru.value <= gru.high
        and gru.value > result.evaluations["popularity"].metrics["recall@20"].value
    )
    sel = result.gru.selection_
    assert sel.best_epoch == 1 and len(sel.history) >= 1 and result.gru.fit_.steps > 0
    assert "item_knn" in result.verdict
    publish_recs(cfg, result, ws=Workspace(workspace), register=True)
    bundle = ModelBundle.load(result.bundle_dir)  # type: ignore[arg-type]
    meta = bundle.meta.model_dump(by_alias=True)
    assert meta["kind"] == "ranking" and meta["top_k"] == 20 and len(meta["items"]) == len(result.split.items)
    assert meta["parity"]["topk_identical"] and meta["parity"]["max_abs_diff"] <= 1e-4
    assert sum(meta["reference_outputs"]["item"].values()) > 100
    assert meta["lineage"]["data_fingerprint"] and "recall_at_20_low" in meta["metrics"]
    assert result.version is not None and result.version.version == 1 and "champion" in result.version.aliases
    html = Path(result.report_path).read_text()  # type: ignore[arg-type]
    assert "oracle" in html and "Gap of the GRU to the oracle bound" in html and "Gradients" in html


def test_cli_rejects_a_folder_without_sessions(workspace: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["train", "--task", "recs", "--quick", "--data", str(tmp_path / "nothing")])
    assert out.exit_code != 0 and "no sessions at" in out.output
