"""Settings of a text-classifier training run (``shopml train --task text``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from shopml.errors import ConfigError
from shopml.nn.config import RunSettings, raise_bad

__all__ = ["SERVED", "TARGETS", "TextConfig"]

#: target -> (texts table under ``texts/``, its text columns, the label column, the business key a served
#: text may carry and its delayed label joins on: the listing, the review, the query)
TARGETS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "category": ("products", ("title", "description"), "category", "product_id"),
    "return_reason": ("reviews", ("text",), "return_reason", "review_id"),
    "intent": ("queries", ("text",), "intent", "query_id"),
}
#: Which model ``model.onnx`` holds: the INT8 student (if it passes its parity check, else the fp32
#: student), the fp32 student, or the fine-tuned teacher.
SERVED = ("student_int8", "student", "teacher")

#: ``--quick``: a small subset, short texts and one epoch (tests, demos): about two minutes on 2 cores.
QUICK = {
    "epochs": 1,
    "student_epochs": 2,
    "max_length": 32,
    "max_train": 480,
    "max_test": 240,
    "batch": 32,
    "student_lr": 3e-4,
    "n_resamples": 200,
    "speed_rows": 32,
}


@dataclass(frozen=True)
class TextConfig(RunSettings):
    """``data``: a simulated world (its ``texts/``); ``target``: what to predict (:data:`TARGETS`);
    ``max_length`` tokens per text (longer texts are cut), ``max_chars`` the longest text the server
    accepts; the teacher's ``epochs``, ``batch``, peak ``lr`` and early-stopping ``patience`` on a
    ``valid_share`` of the training texts; the student's ``student_layers`` (initialised from the
    teacher's first layers, or ``student_init="fresh"``), ``student_epochs``, ``student_lr``, distillation
    ``temperature`` and ``alpha`` (weight of the soft-label loss against the true labels);
    ``max_train``/``max_test`` subsample (``None``: all); ``served``: :data:`SERVED`;
    ``speed_rows`` texts timed one at a time for the speed table; ``classes``: the model's classes in
    this order (the shop's category list, which may name a class no training text has yet: the model
    answers in it, and the labels of that class can be ingested), else the sorted labels of the texts."""

    QUICK: ClassVar[dict[str, Any]] = QUICK

    data: Path | None = None
    name: str = "text"
    target: str = "category"
    max_length: int = 64
    max_chars: int = 2000
    epochs: int = 4
    batch: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    patience: int = 2
    valid_share: float = 0.1
    student_layers: int = 2
    student_init: str = "teacher"
    student_epochs: int = 6
    student_lr: float = 2e-4
    temperature: float = 2.0
    alpha: float = 0.7
    max_train: int | None = None
    max_test: int | None = None
    served: str = "student_int8"
    keep_variants: bool = False
    seed: int = 0
    threads: int | None = 2
    level: float = 0.95
    n_resamples: int = 1000
    baselines: bool = True
    speed_rows: int = 200
    parity_tolerance: float = 1e-4
    quick: bool = False
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.classes, str):
            raise ConfigError(f"classes must be a list of class names, got the string {self.classes!r}")
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        checks = [
            (self.target in TARGETS, f"target must be one of {list(TARGETS)}, got {self.target!r}"),
            (8 <= self.max_length <= 512, f"max_length must be in [8, 512] tokens, got {self.max_length}"),
            (self.max_chars >= 1, f"max_chars must be >= 1, got {self.max_chars}"),
            (self.epochs >= 1 and self.student_epochs >= 1, "epochs and student_epochs must be >= 1"),
            (self.batch >= 2, f"batch must be >= 2, got {self.batch}"),
            (0 < self.valid_share < 0.5, f"valid_share must be in (0, 0.5), got {self.valid_share}"),
            (1 <= self.student_layers <= 6, f"student_layers must be in [1, 6], got {self.student_layers}"),
            (
                self.student_init in ("teacher", "fresh"),
                f"student_init must be teacher|fresh, got {self.student_init!r}",
            ),
            (self.temperature > 0, f"temperature must be > 0, got {self.temperature}"),
            (0 <= self.alpha <= 1, f"alpha must be in [0, 1], got {self.alpha}"),
            (self.served in SERVED, f"served must be one of {list(SERVED)}, got {self.served!r}"),
            (0.5 < self.level < 1, f"level must be in (0.5, 1), got {self.level}"),
            (self.speed_rows >= 1, f"speed_rows must be >= 1, got {self.speed_rows}"),
            (
                self.classes is None or len(set(self.classes)) == len(self.classes) >= 2,
                f"classes must be at least 2 distinct names, got {self.classes!r}",
            ),
        ]
        raise_bad(checks)
