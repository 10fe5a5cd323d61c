"""Model kinds: what a model outputs and how every step (train, serve, monitor, loop) treats it.

One registry (:data:`KINDS`, :func:`get_kind`) of narrow :class:`ModelKind` entries: ``binary``,
``multiclass``, ``ranking``, ``regression``. See :mod:`shopml.kinds.base` for the interface.
"""

# The concrete kinds register themselves on import.
from shopml.kinds import binary, multiclass, ranking, regression  # noqa: F401
from shopml.kinds.base import (
    KINDS,
    LabelSpec,
    ModelKind,
    OutputDrift,
    OutputHead,
    OutputSpec,
    WeightedMetrics,
    get_kind,
    register,
)

__all__ = [
    "KINDS",
    "LabelSpec",
    "ModelKind",
    "OutputDrift",
    "OutputHead",
    "OutputSpec",
    "WeightedMetrics",
    "get_kind",
    "register",
]
