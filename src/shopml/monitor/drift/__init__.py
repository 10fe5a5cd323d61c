"""Data drift: the test registry and its corrections, the comparison, multivariate and quality checks.

The comparison itself is :func:`shopml.monitor.compare` (module :mod:`shopml.monitor.drift.compare`).
Names are imported lazily (PEP 562), as in :mod:`shopml.monitor`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopml.monitor.drift.config import DriftConfig, FeatureOverride
    from shopml.monitor.drift.registry import TESTS, DriftTest, adjust_p_values, get_test, register
    from shopml.monitor.drift.report import DriftReport, FeatureDrift, MultivariateDrift, QualityIssue
    from shopml.monitor.drift.window import window_drift

_WHERE: dict[str, str] = {
    "DriftConfig": "shopml.monitor.drift.config",
    "DriftReport": "shopml.monitor.drift.report",
    "DriftTest": "shopml.monitor.drift.registry",
    "FeatureDrift": "shopml.monitor.drift.report",
    "FeatureOverride": "shopml.monitor.drift.config",
    "MultivariateDrift": "shopml.monitor.drift.report",
    "QualityIssue": "shopml.monitor.drift.report",
    "TESTS": "shopml.monitor.drift.registry",
    "adjust_p_values": "shopml.monitor.drift.registry",
    "get_test": "shopml.monitor.drift.registry",
    "register": "shopml.monitor.drift.registry",
    "window_drift": "shopml.monitor.drift.window",
}

__all__ = [
    "TESTS",
    "DriftConfig",
    "DriftReport",
    "DriftTest",
    "FeatureDrift",
    "FeatureOverride",
    "MultivariateDrift",
    "QualityIssue",
    "adjust_p_values",
    "get_test",
    "register",
    "window_drift",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shopml.monitor.drift' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
