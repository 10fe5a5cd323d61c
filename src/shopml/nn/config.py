"""Settings of the guarded training loop, checked when made (a nonsense value fails here, not deep
inside a run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar, Self

from shopml.errors import ConfigError
from shopml.nn.schedule import SCHEDULES

__all__ = ["FitConfig", "RunSettings", "raise_bad"]


def raise_bad(checks: list[tuple[bool, str]]) -> None:
    """Raise one :class:`ConfigError` naming every failed check (``(ok, message)`` pairs)."""
    bad = [msg for ok, msg in checks if not ok]
    if bad:
        raise ConfigError("; ".join(bad))


class RunSettings:
    """What the neural tasks' run settings share (frozen dataclasses with a ``quick`` flag and a ``data``
    folder): ``make`` (the defaults, the class's ``QUICK`` values where asked, then overrides) and a
    JSON-ready ``to_dict``."""

    #: ``--quick``'s values: a small model on a subset, seconds not minutes.
    QUICK: ClassVar[dict[str, Any]] = {}

    @classmethod
    def make(cls, *, quick: bool = False, **overrides: Any) -> Self:
        """The defaults, ``--quick``'s where asked, then ``overrides`` (``None`` values ignored)."""
        base = cls(quick=quick, **(cls.QUICK if quick else {}))  # type: ignore[call-arg]
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``data`` as text)."""
        d = asdict(self)  # type: ignore[call-overload]
        d["data"] = str(d["data"]) if d.get("data") is not None else None
        return d


@dataclass(frozen=True)
class FitConfig:
    """How :func:`shopml.nn.fit` trains.

    ``lr`` is the peak learning rate of the schedule; ``clip_norm`` the gradient-norm clip (``None``: no
    clipping, the norm is still computed and checked); ``grad_every`` how often per-layer gradient norms
    are recorded (optimiser steps); ``patience`` epochs without a ``min_delta`` improvement of the
    validation metric before stopping (``None``: train all ``epochs``); ``mode`` whether the metric is to
    be maximised or minimised; ``chance`` the metric of a model that guesses (the fit diagnosis measures
    skill above it; for ``mode="max"`` metrics only); ``threads`` the torch CPU threads (``None``: leave);
    ``restore_best`` whether the best epoch's weights are put back at the end (``False`` keeps the last).
    """

    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "one_cycle"
    warmup: float = 0.25
    clip_norm: float | None = 1.0
    grad_every: int = 10
    patience: int | None = 3
    min_delta: float = 0.0
    mode: str = "max"
    chance: float = 0.0
    metric_name: str = "metric"
    seed: int = 0
    threads: int | None = None
    progress: bool = True
    valid_loss: bool = True
    restore_best: bool = True

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {list(SCHEDULES)}, got {self.schedule!r}"),
            (0 < self.warmup < 1, f"warmup must be in (0, 1), got {self.warmup}"),
            (self.clip_norm is None or self.clip_norm > 0, f"clip_norm must be > 0, got {self.clip_norm}"),
            (self.grad_every >= 1, f"grad_every must be >= 1, got {self.grad_every}"),
            (self.patience is None or self.patience >= 1, f"patience must be >= 1, got {self.patience}"),
            (self.min_delta >= 0, f"min_delta must be >= 0, got {self.min_delta}"),
            (self.mode in ("max", "min"), f"mode must be 'max' or 'min', got {self.mode!r}"),
            (self.threads is None or self.threads >= 1, f"threads must be >= 1, got {self.threads}"),
        ]
        bad = [msg for ok, msg in checks if not ok]
        if bad:
            raise ConfigError("; ".join(bad))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)
