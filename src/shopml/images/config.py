"""Settings of an image-classifier training run (``shopml train --task images``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from shopml.nn.config import RunSettings, raise_bad

__all__ = ["ImagesConfig"]

#: ``--quick``: a small subset, a narrow net and few epochs (tests, demos), seconds not minutes.
QUICK = {
    "epochs": 4,
    "width": 8,
    "batch": 64,
    "lr": 1e-2,
    "extra_block": False,
    "max_train": 2000,
    "max_test": 800,
    "n_resamples": 200,
    "threads": 1,
    "channels_last": False,
    "pool": 1,
}


@dataclass(frozen=True)
class ImagesConfig(RunSettings):
    """``data``: a photo folder (default Fashion-MNIST from the Debian package); the CNN's ``width``,
    ``pool`` (the grid of the final average pooling: 1 = global),
    ``epochs``, ``batch``, peak ``lr`` of the one-cycle schedule, AdamW ``weight_decay``,
    ``label_smoothing`` and ``dropout``; ``valid_share`` of the training photos held out for early
    stopping and the review threshold; ``max_train``/``max_test`` subsample (``None``: all);
    ``precision_target`` of the auto-assign threshold; ``parity_tolerance`` of the ONNX check;
    ``mirror``: serve the mean of the photo's and its mirror image's probabilities (test-time
    augmentation, the served graph does it); ``channels_last``: train in NHWC memory layout (oneDNN's
    faster CPU convolutions: a quarter less time a step for the default net here; off for ``--quick``'s
    tiny net)."""

    QUICK: ClassVar[dict[str, Any]] = QUICK

    data: Path | None = None
    name: str = "images"
    epochs: int = 30
    width: int = 32
    extra_block: bool = False
    pool: int = 3
    batch: int = 256
    lr: float = 4e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    dropout: float = 0.25
    patience: int = 4
    valid_share: float = 0.1
    max_train: int | None = None
    max_test: int | None = None
    seed: int = 0
    threads: int | None = 2
    level: float = 0.95
    n_resamples: int = 1000
    baselines: bool = True
    precision_target: float = 0.98
    parity_tolerance: float = 1e-4
    quick: bool = False
    mirror: bool = True
    channels_last: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.width >= 1, f"width must be >= 1, got {self.width}"),
            (self.pool in (1, 3), f"pool must be 1 (global) or 3 (a 3×3 grid), got {self.pool}"),
            (self.batch >= 2, f"batch must be >= 2, got {self.batch}"),
            (0 < self.valid_share < 0.5, f"valid_share must be in (0, 0.5), got {self.valid_share}"),
            (
                0 < self.precision_target < 1,
                f"precision_target must be in (0, 1), got {self.precision_target}",
            ),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1), got {self.label_smoothing}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (0.5 < self.level < 1, f"level must be in (0.5, 1), got {self.level}"),
        ]
        raise_bad(checks)
