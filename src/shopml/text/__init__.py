"""Texts: product titles, reviews and search queries classified by a small transformer encoder; its ONNX
export, INT8 quantisation and the drift reference the monitor compares served texts against.

Training (``shopml train --task text``): the pretrained encoder fine-tuned with a classification head,
a distilled student, TF-IDF and frozen-encoder baselines, metrics with intervals on held-out templates.

Importing this package imports neither torch nor transformers; each name loads its module on first use.
"""

from typing import TYPE_CHECKING

from shopml._lazy import lazy_exports

if TYPE_CHECKING:
    from shopml.text.config import TARGETS, TextConfig
    from shopml.text.data import TextSet, load_texts
    from shopml.text.encoder import encoder_dir, load_encoder, weights_sha256
    from shopml.text.trainer import TextResult, train_text

__all__ = [
    "TARGETS",
    "TextConfig",
    "TextResult",
    "TextSet",
    "encoder_dir",
    "load_encoder",
    "load_texts",
    "train_text",
    "weights_sha256",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "TARGETS": "shopml.text.config",
        "TextConfig": "shopml.text.config",
        "TextSet": "shopml.text.data",
        "load_texts": "shopml.text.data",
        "encoder_dir": "shopml.text.encoder",
        "load_encoder": "shopml.text.encoder",
        "weights_sha256": "shopml.text.encoder",
        "TextResult": "shopml.text.trainer",
        "train_text": "shopml.text.trainer",
    },
)
