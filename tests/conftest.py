"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace folder, also exported as SHOPML_WORKSPACE; cwd moved to tmp."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("SHOPML_WORKSPACE", str(ws))
    monkeypatch.chdir(tmp_path)
    return ws


# Deterministic property tests that tolerate a slow, shared CI machine.
settings.register_profile(
    "shopml", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shopml")
