"""``train_text`` end to end on tiny data (the real encoder, one short epoch, torch at one thread): the
bundle's contract, the served graph, the lineage, the report, the registry; and the pieces alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shopml.errors import ConfigError, DataError
from shopml.text import TextConfig, load_texts

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def trained(text_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from shopml.config import Workspace
    from shopml.text import train_text

    ws = Workspace(tmp_path_factory.mktemp("text_ws")).ensure()
    cfg = TextConfig.make(
        quick=True, data=text_world, max_train=96, max_test=48, max_length=16, batch=16,
        student_epochs=1, speed_rows=4, n_resamples=50, threads=1,
    )  # fmt: skip
    return train_text(cfg, ws=ws, register=True, tracking_uri=f"sqlite:///{ws.root}/mlflow.db")


def test_bundle_contract(trained: Any) -> None:
    from shopml.text.encoder import weights_sha256

    meta = json.loads((trained.bundle_dir / "bundle.json").read_text())
    assert meta["kind"] == "multiclass" and meta["input_type"] == "text" and meta["task"] == "text"
    assert meta["inputs"] == ["input_ids", "attention_mask"]
    assert meta["max_length"] == 16 and meta["max_chars"] == 2000
    assert meta["classes"] == trained.run.classes and len(meta["classes"]) >= 8
    assert (trained.bundle_dir / "model.onnx").is_file() and (trained.bundle_dir / "tokenizer.json").is_file()
    enc = meta["lineage"]["encoder"]
    assert enc["weights_sha256"] == weights_sha256() and len(enc["weights_sha256"]) == 64
    assert meta["served_model"] in ("student_int8", "student")
    assert meta["quantized"] == (meta["served_model"] == "student_int8")
    for name in ("text_reference.json", "reference_sample.npz"):  # the drift reference beside the model
        assert (trained.bundle_dir / name).is_file()
    assert (
        0
        <= meta["metrics"]["accuracy_low"]
        <= meta["metrics"]["accuracy"]
        <= meta["metrics"]["accuracy_high"]
    )


def test_served_graph_answers_texts(trained: Any) -> None:
    import onnxruntime as ort

    from shopml.text.export import load_tokenizer, tokenize

    tok = load_tokenizer(trained.bundle_dir / "tokenizer.json")
    ids, mask = tokenize(tok, ["red cotton t-shirt size M", "oak coffee table"], 16)
    sess = ort.InferenceSession(str(trained.bundle_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    proba, label, emb = sess.run(
        ["probabilities", "label", "embedding"], {"input_ids": ids, "attention_mask": mask}
    )
    c = len(trained.run.classes)
    assert proba.shape == (2, c) and np.allclose(proba.sum(1), 1, atol=1e-4)
    assert emb.shape == (2, 384) and list(label) == [trained.run.classes[i] for i in proba.argmax(1)]


def test_every_model_measured_with_intervals(trained: Any) -> None:
    run = trained.run
    assert set(run.models) == {"teacher", "student", "student_int8", "tfidf", "frozen_linear"}
    for m in run.models.values():
        for iv in (m["metrics"]["accuracy"], m["metrics"]["macro_f1"]):
            assert 0 <= iv.low <= iv.value <= iv.high <= 1
    assert {"p50_ms", "p95_ms", "texts_per_s"} <= set(run.models["student_int8"]["speed"])
    assert (
        run.models["student_int8"]["size_mb"]
        < run.models["student"]["size_mb"]
        < run.models["teacher"]["size_mb"]
    )
    assert run.student.encoder.config.num_hidden_layers == 2
    assert run.teacher.encoder.config.num_hidden_layers == 6
    assert len(run.per_class) == len(run.classes)
    assert run.teacher_fit.history and run.student_fit.history
    json.dumps(trained.summary())


def test_report_and_registry(trained: Any) -> None:
    html = trained.report_path.read_text()
    for part in ("Speed and accuracy", "Per class", "INT8 quantisation parity", "Teacher fine-tuning"):
        assert part in html
    assert trained.version is not None and str(trained.version.version) == "1"


def test_probe_becomes_the_same_linear_head() -> None:
    import torch

    from shopml.text.baselines import fit_frozen_linear, init_head

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = np.argmax(x[:, :3], axis=1)
    probe, _ = fit_frozen_linear(x, y)
    head = torch.nn.Linear(6, 4)
    init_head(head, probe, 4)
    with torch.no_grad():
        p = torch.softmax(head(torch.from_numpy(x)), 1).numpy()
    np.testing.assert_allclose(p[:, :3], probe.predict_proba(x), atol=1e-3)
    assert p[:, 3].max() < 1e-3  # a class the probe never saw


def test_bad_settings_and_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="target must be one of"):
        TextConfig(target="colour")
    with pytest.raises(ConfigError, match="max_length"):
        TextConfig(max_length=4)
    with pytest.raises(DataError, match="shopml simulate --texts"):
        load_texts(tmp_path, "category")


def test_targets_load_from_the_world(text_world: Path) -> None:
    reviews = load_texts(text_world, "return_reason")
    assert "kept" in reviews.classes and len(reviews.test_texts) > 0
    queries = load_texts(text_world, "intent")
    assert "product_search" in queries.classes


def test_cli_names_the_missing_texts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shopml.cli.main import app

    out = CliRunner().invoke(
        app, ["train", "--task", "text", "--data", str(tmp_path), "--quick", "-w", str(tmp_path / "ws")]
    )
    assert out.exit_code != 0
    assert "shopml simulate --texts" in " ".join(out.stderr.split())
