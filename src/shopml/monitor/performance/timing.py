"""Window lengths as text (``1d``, ``12h``, ``2w``) and the per-window random generators.

Each window gets a generator of its own, seeded by its start (and a purpose), so a window's numbers do not
depend on which other windows the same run evaluates: what makes per-window results cacheable across runs
(:mod:`shopml.monitor.cache`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np

from shopml.errors import ConfigError

__all__ = ["parse_window", "window_rng"]

_WINDOW = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_window(text: str) -> timedelta:
    """``"1d"`` → one day; ``h``, ``d`` and ``w`` units.

    >>> parse_window("12h")
    datetime.timedelta(seconds=43200)
    """
    m = _WINDOW.match(text.strip())
    if not m or int(m.group(1)) == 0:
        raise ConfigError(f"window must look like 1d, 12h or 2w, got {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def window_rng(seed: int, start: datetime, purpose: int) -> np.random.Generator:
    """A generator of its own per window (and purpose)."""
    return np.random.default_rng([seed, int(start.timestamp()), purpose])
