"""Procedural product photos: deterministic, label noise as stated, drift scenarios that move what they
promise (brightness, sharpness, a new category)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopml.images import load_images, load_test_set
from shopml.simulate.images import CATEGORIES, write_images


def _sharpness(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x.astype(np.float64), axis=2)).mean())


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_images(tmp_path / "a", per_class=10, seed=5)
    write_images(tmp_path / "b", per_class=10, seed=5)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 15  # 4 IDX + classes + manifest, 3 drift sets of 3
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert a["train"] == 80 and a["noisy_labels"] <= 10
    c = write_images(tmp_path / "c", per_class=10, seed=6)
    assert (tmp_path / "c" / "train-images-idx3-ubyte.gz").read_bytes() != (
        tmp_path / "a" / "train-images-idx3-ubyte.gz"
    ).read_bytes()
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["seed"] == c["seed"] == 6


def test_drift_scenarios_move_what_they_say(photos: Path) -> None:
    clean = load_images(photos).test_x
    dark, _, _ = load_test_set(photos / "drift" / "dark")
    blur, _, _ = load_test_set(photos / "drift" / "blur")
    _, y_new, classes = load_test_set(photos / "drift" / "new_category")
    assert dark.mean() < 0.6 * clean.mean()
    assert _sharpness(blur) < 0.6 * _sharpness(clean)
    assert classes == [*CATEGORIES, "hat"] and 0.1 < (y_new == len(CATEGORIES)).mean() < 0.4


def test_simulate_writes_photos_beside_the_tables(tmp_path: Path) -> None:
    from shopml.simulate import simulate

    res = simulate(tmp_path / "world", days=2, seed=1, customers=300, session_rate=0, images=6)
    assert res.rows["images"] == 48
    assert load_images(tmp_path / "world").classes == CATEGORIES  # found in world/images/
