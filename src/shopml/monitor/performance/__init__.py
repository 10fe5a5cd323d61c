"""Model performance over time: realised metrics per window, estimates, baselines, streaming detectors,
traffic.

Names are imported lazily (PEP 562), as in :mod:`shopml.monitor`: the streaming detectors need River.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopml.monitor.performance.estimate import estimate_performance
    from shopml.monitor.performance.history import History, performance_history
    from shopml.monitor.performance.metrics import METRICS, SortedScores
    from shopml.monitor.performance.streaming import StreamAlarm, StreamResult, detect_stream
    from shopml.monitor.performance.timing import parse_window
    from shopml.monitor.performance.traffic import window_traffic
    from shopml.monitor.performance.windows import (
        WindowData,
        WindowPerformance,
        evaluate_series,
        evaluate_window,
        realised_performance,
    )

_WHERE: dict[str, str] = {
    "METRICS": "shopml.monitor.performance.metrics",
    "History": "shopml.monitor.performance.history",
    "SortedScores": "shopml.monitor.performance.metrics",
    "StreamAlarm": "shopml.monitor.performance.streaming",
    "StreamResult": "shopml.monitor.performance.streaming",
    "WindowData": "shopml.monitor.performance.windows",
    "WindowPerformance": "shopml.monitor.performance.windows",
    "detect_stream": "shopml.monitor.performance.streaming",
    "estimate_performance": "shopml.monitor.performance.estimate",
    "evaluate_series": "shopml.monitor.performance.windows",
    "evaluate_window": "shopml.monitor.performance.windows",
    "parse_window": "shopml.monitor.performance.timing",
    "performance_history": "shopml.monitor.performance.history",
    "realised_performance": "shopml.monitor.performance.windows",
    "window_traffic": "shopml.monitor.performance.traffic",
}

__all__ = [
    "METRICS",
    "History",
    "SortedScores",
    "StreamAlarm",
    "StreamResult",
    "WindowData",
    "WindowPerformance",
    "detect_stream",
    "estimate_performance",
    "evaluate_series",
    "evaluate_window",
    "parse_window",
    "performance_history",
    "realised_performance",
    "window_traffic",
]


def __getattr__(name: str) -> Any:
    """Import the submodule defining ``name`` on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'shopml.monitor.performance' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
