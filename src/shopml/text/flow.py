"""``run_text``: texts → the fine-tuned teacher, the distilled student, their ONNX graphs and the INT8
student, the baselines, metrics with intervals on the held-out templates, and the speed table.

Order: load the world's texts (training split; the test split uses held-out templates and words) →
tokenise (the server's tokenisation) → a linear head on the frozen encoder's embeddings (a baseline, and
the teacher's starting head: linear probing then fine-tuning, which keeps the pretrained features from
being distorted by a random head's first gradients) → fine-tune the teacher (:func:`shopml.nn.fit`,
early stopping on a validation share) → its logits on the training
texts → distil the student → ONNX export of both (parity-checked), INT8 quantisation of the student
(parity: accuracy within 0.5 point, embedding cosine ≥ 0.99) → TF-IDF baseline → the multiclass kind's
metric family with bootstrap intervals for every model → per-class results → speed of every model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopml.errors import ConfigError
from shopml.text.config import TextConfig
from shopml.text.data import TextSet, load_texts

__all__ = ["MODELS", "TextRun", "run_text"]

#: The models of a run, in the order of the report's tables.
MODELS = ("teacher", "student", "student_int8", "tfidf", "frozen_linear")
PARITY_ROWS = 64


@dataclass
class TextRun:
    """Everything a run measured (what the report shows and the bundle records)."""

    cfg: TextConfig
    data: TextSet
    teacher_fit: Any  # shopml.nn.FitResult
    student_fit: Any
    models: dict[str, dict[str, Any]]  # name -> proba, metrics (Intervals), fit_seconds, speed, size_mb
    onnx: dict[str, bytes]  # teacher, student, student_int8
    quant_parity: Any  # shopml.text.export.QuantParity
    served: str
    per_class: list[dict[str, Any]]
    confusion: np.ndarray
    test_embedding: np.ndarray  # the served model's embeddings of the test texts
    train_embedding: np.ndarray  # ... and of the training texts (with the test texts: the drift reference)
    teacher: Any  # torch modules (input_ids, attention_mask) -> (probabilities, embedding)
    student: Any
    n_train: int
    n_valid: int
    encoder_sha256: str
    peak_memory_mb: float

    @property
    def classes(self) -> list[str]:
        """Class names (the index order of the probabilities)."""
        return self.data.classes


def _proba(model: Any, x: Any, n_classes: int) -> np.ndarray:
    """scikit-learn probabilities over all ``n_classes`` (a class missing in training gets 0)."""
    p = model.predict_proba(x)
    out = np.zeros((p.shape[0], n_classes), dtype=np.float64)
    out[:, np.asarray(model.classes_, dtype=np.int64)] = p
    return out


def _served(cfg: TextConfig, parity: Any) -> str:
    if cfg.served == "student_int8" and not parity.passed:
        return "student"
    return cfg.served


def run_text(cfg: TextConfig, say: Callable[[str], None], data: TextSet | None = None) -> TextRun:
    """Load (or take ``data``), fit, distil, export, quantise and measure (everything but the bundle and
    registration)."""
    from shopml.images.evaluate import confusion, per_class
    from shopml.images.flow import peak_memory_mb
    from shopml.kinds import get_kind
    from shopml.nn import seed_everything
    from shopml.text.baselines import fit_frozen_linear, fit_tfidf, init_head
    from shopml.text.encoder import load_encoder, make_student, tokenizer_file, weights_sha256
    from shopml.text.export import (
        export_text_onnx,
        load_tokenizer,
        onnx_outputs,
        pooled_classifier,
        quantization_parity,
        quantize_int8,
        tokenize,
        torch_outputs,
    )
    from shopml.text.finetune import TokenBatches, distill, fine_tune, logits, split_valid
    from shopml.text.speed import onnx_predictor, time_predictor

    if data is None and cfg.data is None:
        raise ConfigError("text training needs data: a simulated world with texts/ (--data)")
    say(f"loading texts ({cfg.target})")
    classes = list(cfg.classes) if cfg.classes else None
    ds = data if data is not None else load_texts(cfg.data, cfg.target, classes)  # type: ignore[arg-type]
    if cfg.max_train or cfg.max_test:
        ds = ds.subset(cfg.max_train or len(ds.train_y), cfg.max_test or len(ds.test_y), cfg.seed)
    c = len(ds.classes)
    tok = load_tokenizer(tokenizer_file())
    ids, mask = tokenize(tok, ds.train_texts, cfg.max_length)
    tids, tmask = tokenize(tok, ds.test_texts, cfg.max_length)
    tr, va = split_valid(ds.train_y, cfg.valid_share, cfg.seed)
    seed_everything(cfg.seed)
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    models: dict[str, dict[str, Any]] = {}
    teacher = pooled_classifier(load_encoder(), c, seed=cfg.seed)
    say("frozen encoder + linear head (also the teacher's starting head)")
    _, emb = torch_outputs(teacher, ids[tr], mask[tr])
    probe, sec = fit_frozen_linear(emb, ds.train_y[tr], cfg.seed)
    init_head(teacher.head, probe, c)
    if cfg.baselines:
        _, temb = torch_outputs(teacher, tids, tmask)
        models["frozen_linear"] = {"proba": _proba(probe, temb, c), "fit_seconds": sec}
    say(f"fine-tuning the teacher: {len(tr)} training, {len(va)} validation texts, {c} classes")
    train = TokenBatches(ids[tr], mask[tr], ds.train_y[tr], cfg.batch, shuffle=True, seed=cfg.seed)
    valid = TokenBatches(ids[va], mask[va], ds.train_y[va], 64)
    start = time.perf_counter()
    teacher_fit = fine_tune(teacher, train, valid, c, cfg)
    models["teacher"] = {"fit_seconds": time.perf_counter() - start}
    say(f"distilling a {cfg.student_layers}-layer student ({cfg.student_init} initialisation)")
    start = time.perf_counter()
    soft = logits(teacher, ids[tr], mask[tr])
    student = pooled_classifier(
        make_student(teacher.encoder, cfg.student_layers, cfg.student_init, cfg.seed), c, seed=cfg.seed
    )
    if cfg.student_init == "teacher":
        student.head.load_state_dict(teacher.head.state_dict())
    strain = TokenBatches(
        ids[tr], mask[tr], ds.train_y[tr], cfg.batch, shuffle=True, seed=cfg.seed, soft=soft
    )
    student_fit = distill(student, strain, valid, c, cfg)
    models["student"] = {"fit_seconds": time.perf_counter() - start}
    embedding: dict[str, np.ndarray] = {}
    for name, module in (("teacher", teacher), ("student", student)):
        models[name]["proba"], embedding[name] = torch_outputs(module, tids, tmask)
    say("ONNX export (parity-checked) and INT8 quantisation of the student")
    check = (tids[:PARITY_ROWS], tmask[:PARITY_ROWS])
    onnx = {
        "teacher": export_text_onnx(teacher, ds.classes, check, cfg.parity_tolerance),
        "student": export_text_onnx(student, ds.classes, check, cfg.parity_tolerance),
    }
    onnx["student_int8"] = quantize_int8(onnx["student"])
    parity = quantization_parity(onnx["student"], onnx["student_int8"], tids, tmask, ds.test_y)
    p8, embedding["student_int8"] = onnx_outputs(onnx["student_int8"], tids, tmask)
    models["student_int8"] = {"proba": p8, "fit_seconds": 0.0}
    if cfg.baselines:
        say("TF-IDF + logistic regression")
        train_texts = [ds.train_texts[i] for i in tr]
        tfidf, sec = fit_tfidf(train_texts, ds.train_y[tr], cfg.seed)
        models["tfidf"] = {"proba": _proba(tfidf, ds.test_texts, c), "fit_seconds": sec}
    say("test metrics with intervals and the speed table")
    kind = get_kind("multiclass")
    for m in models.values():
        m["metrics"] = kind.intervals(
            ds.test_y, m["proba"], n_resamples=cfg.n_resamples, level=cfg.level, seed=cfg.seed
        )
    for name, raw in onnx.items():
        models[name]["speed"] = time_predictor(
            onnx_predictor(raw, tok, cfg.max_length), ds.test_texts, cfg.speed_rows
        )
        models[name]["size_mb"] = len(raw) / 1e6
    if "tfidf" in models:
        models["tfidf"]["speed"] = time_predictor(
            lambda t: tfidf.predict_proba(t), ds.test_texts, cfg.speed_rows
        )
    served = _served(cfg, parity)
    p = models[served]["proba"]
    _, train_embedding = onnx_outputs(onnx[served], ids, mask)  # the served graph, as the server logs it
    return TextRun(
        cfg=cfg,
        data=ds,
        teacher_fit=teacher_fit,
        student_fit=student_fit,
        models={k: models[k] for k in MODELS if k in models},
        onnx=onnx,
        quant_parity=parity,
        served=served,
        per_class=per_class(ds.test_y, p, ds.classes),
        confusion=confusion(ds.test_y, p, c),
        test_embedding=embedding[served],
        train_embedding=train_embedding,
        teacher=teacher,
        student=student,
        n_train=len(tr),
        n_valid=len(va),
        encoder_sha256=weights_sha256(),
        peak_memory_mb=peak_memory_mb(),
    )
