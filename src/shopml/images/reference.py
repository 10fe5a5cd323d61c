"""The photo classifier's drift reference: penultimate-layer embeddings and image statistics of held-out
photos, saved beside the bundle (``reference_sample.npz``, :mod:`shopml.monitor.drift.embedding`).

The server logs, per photo, the same columns (``embedding``, the exported graph's output,
``brightness``, ``contrast``, ``sharpness`` from :func:`shopml.images.stats.image_stats`), so the monitor
compares like with like. The sample is up to ``max_rows`` validation photos (never trained on), drawn
at random with the run's seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shopml.images.stats import image_stats

__all__ = ["MAX_REFERENCE_ROWS", "embed", "reference_columns", "save_reference"]

#: Held-out photos in the reference sample: enough for the tests' subsample (500) with room to spare.
MAX_REFERENCE_ROWS = 1000


def embed(serving: Any, x: np.ndarray) -> np.ndarray:
    """Penultimate-layer embeddings ``[N, D]`` (float32) of uint8 photos ``[N, 28, 28]``: the graph's
    ``embedding`` output (:meth:`shopml.images.cnn.Classifier.embed`), computed in PyTorch."""
    from shopml.images.export import torch_outputs

    return torch_outputs(serving, x)[1]


def reference_columns(serving: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """The logged columns of photos ``x``: ``embedding`` and the image statistics."""
    return {"embedding": embed(serving, x), **image_stats(x)}


def save_reference(
    folder: str | Path, run: Any, valid_share: float, seed: int, max_rows: int = MAX_REFERENCE_ROWS
) -> Path:
    """Write the reference sample of ``run`` (a :class:`shopml.images.flow.ImagesRun`): up to ``max_rows``
    of its validation photos (the split of ``valid_share`` and ``seed``, as in training)."""
    from shopml.images.flow import split_valid
    from shopml.monitor.drift.embedding import save_sample

    _, valid = split_valid(run.data.train_y, valid_share, seed)
    rng = np.random.default_rng([seed, 14])
    rows = np.sort(rng.permutation(valid)[:max_rows])
    return save_sample(folder, reference_columns(run.serving, run.data.train_x[rows]))
