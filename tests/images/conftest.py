"""Simulated product photos for the image tests (written once per session; torch at one thread)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated photo folder: 8 categories × 60 training photos (+ drift sets)."""
    from shopml.simulate.images import write_images

    out = tmp_path_factory.mktemp("photos")
    write_images(out, per_class=60, seed=3)
    return out
