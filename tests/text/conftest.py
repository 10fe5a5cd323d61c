"""A small simulated shop with texts for the text tests (written once per session; hub off)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def text_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six days, 80 texts of each kind per day (no sessions)."""
    from shopml.simulate import simulate

    out = tmp_path_factory.mktemp("text_world")
    simulate(out, days=6, customers=100, session_rate=0.0, seed=5, texts=80)
    return out
