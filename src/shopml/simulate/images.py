"""Procedural product photos: small grey 28×28 pictures per shop category, with drift scenarios.

Every category has its own silhouette (a T-shirt, trousers, a bag, a shoe, a mug, a ball, a bottle, a
lamp) drawn at a random position and scale, filled with a random texture (plain, stripes, checks,
speckles) and lit by a random studio light (overall gain and a linear gradient), over a noisy
background. A share ``label_noise`` of the training labels is replaced by another category, as sellers
mislabel photos. The test set is clean. Drift scenarios are extra test sets (``t10k-*`` files only)
under ``drift/NAME/``:

* ``new_category`` — a quarter of the photos show hats, a category the model never saw (labelled
  ``hat``, an index past the trained classes);
* ``dark`` — darker studio lighting (gain × 0.45);
* ``blur`` — out-of-focus photos (a 3×3 box blur, twice).

The layout is Fashion-MNIST's (IDX files, gzip, plus ``classes.json``), so one reader serves both.
Same seed, same bytes.

>>> x, y = render(np.random.default_rng(0), np.array([0, 5]))
>>> x.shape, x.dtype, y.tolist()
((2, 28, 28), dtype('uint8'), [0, 5])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shopml.errors import ConfigError
from shopml.images.idx import write_idx

__all__ = ["CATEGORIES", "DRIFT_SCENARIOS", "NEW_CATEGORY", "render", "write_images"]

CATEGORIES = ["tshirt", "trousers", "bag", "shoe", "mug", "ball", "bottle", "lamp"]
NEW_CATEGORY = "hat"
DRIFT_SCENARIOS = {
    "new_category": "a quarter of the photos show hats, a category never seen in training",
    "dark": "darker studio lighting (gain × 0.45)",
    "blur": "out-of-focus photos (3×3 box blur, twice)",
}
SIZE = 28


def _mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Silhouette of ``shape`` in object coordinates ``u`` (right) and ``v`` (down), about ±10 units."""
    au = np.abs(u)
    r = np.hypot(u, v)
    if shape == "tshirt":
        return ((au < 5) & (v > -5) & (v < 8)) | ((au < 9.5) & (v > -5) & (v < -1))
    if shape == "trousers":
        return ((au > 0.8) & (au < 5) & (v > -8) & (v < 9)) | ((au < 5) & (v > -8) & (v < -4))
    if shape == "bag":
        ring = (np.hypot(u, v + 2) > 3.5) & (np.hypot(u, v + 2) < 5.5) & (v < -2)
        return ((au < 7.5) & (v > -2) & (v < 7)) | ring
    if shape == "shoe":
        return (((u / 9.5) ** 2 + ((v - 3) / 3.5) ** 2 < 1) & (v > 0)) | (
            (u > -9) & (u < -2) & (v > -5) & (v < 3)
        )
    if shape == "mug":
        handle = (np.hypot(u - 5, v) > 2) & (np.hypot(u - 5, v) < 4) & (u > 4)
        return ((np.abs(u + 1) < 5) & (np.abs(v) < 6.5)) | handle
    if shape == "ball":
        return r < 7.5
    if shape == "bottle":
        return ((au < 3.8) & (v > -2) & (v < 9)) | ((au < 1.6) & (v > -9) & (v <= -2))
    if shape == "lamp":
        shade = (v > -9) & (v < -2) & (au < 2.5 + (v + 9) * 0.7)
        return shade | ((au < 1) & (v >= -2) & (v < 7)) | ((au < 5) & (v >= 7) & (v < 9))
    if shape == NEW_CATEGORY:
        return (((u / 8) ** 2 + ((v + 1) / 7) ** 2 < 1) & (v < -1)) | ((au < 11) & (v >= -1) & (v < 1.5))
    raise ConfigError(f"unknown product shape {shape!r}; known: {[*CATEGORIES, NEW_CATEGORY]}")


def _texture(rng: np.random.Generator, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    kind = rng.integers(0, 4)
    f = rng.uniform(0.8, 1.6)
    if kind == 1:
        return 0.5 + 0.5 * np.sin(f * (u if rng.random() < 0.5 else v))
    if kind == 2:
        return ((np.floor(u * f / 2) + np.floor(v * f / 2)) % 2).astype(np.float64)
    if kind == 3:
        return rng.random(u.shape)
    return np.zeros_like(u)


def render(
    rng: np.random.Generator, labels: np.ndarray, names: list[str] | None = None, gain: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One uint8 photo per label (index into ``names``, default :data:`CATEGORIES`), lit at ``gain``."""
    names = names or CATEGORIES
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    out = np.empty((len(labels), SIZE, SIZE), dtype=np.uint8)
    for i, lab in enumerate(np.asarray(labels).tolist()):
        cx, cy = SIZE / 2 + rng.normal(0, 1.5, 2)
        s = rng.uniform(0.8, 1.2)
        u, v = (xx - cx) / s, (yy - cy) / s
        mask = _mask(names[lab], u, v)
        tone = rng.uniform(0.55, 1.0) * (1 - rng.uniform(0.2, 0.6) * _texture(rng, u, v))
        light = gain * rng.uniform(0.7, 1.1) * (1 + rng.uniform(-0.25, 0.25) * (xx - 14) / 14)
        light = light * (1 + rng.uniform(-0.25, 0.25) * (yy - 14) / 14)
        back = 0.06 + rng.normal(0, 0.03, mask.shape)
        img = np.where(mask, tone * light, back * gain) + rng.normal(0, 0.02, mask.shape)
        out[i] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return out, np.asarray(labels, dtype=np.int64)


def _blur(x: np.ndarray, times: int = 2) -> np.ndarray:
    f = x.astype(np.float64)
    for _ in range(times):
        p = np.pad(f, ((0, 0), (1, 1), (1, 1)), mode="edge")
        acc = np.zeros_like(f)
        for i in range(3):
            for j in range(3):
                acc += p[:, i : i + SIZE, j : j + SIZE]
        f = acc / 9.0
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


def _write_set(folder: Path, prefix: str, x: np.ndarray, y: np.ndarray) -> None:
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y.astype(np.uint8))


def write_images(
    out_dir: str | Path, *, per_class: int = 600, seed: int = 0, label_noise: float = 0.03
) -> dict[str, Any]:
    """Write ``per_class`` training and ``per_class // 5`` test photos per category to ``out_dir``
    (Fashion-MNIST's layout), the drift test sets under ``drift/``, and ``manifest.json``; return it."""
    if per_class < 5:
        raise ConfigError(f"images per category must be >= 5, got {per_class}")
    if not 0 <= label_noise < 0.5:
        raise ConfigError(f"label_noise must be in [0, 0.5), got {label_noise}")
    out = Path(out_dir)
    rng = np.random.default_rng([seed, 28])
    k = len(CATEGORIES)
    n_test = max(1, per_class // 5)
    train_y = rng.permutation(np.repeat(np.arange(k), per_class))
    train_x, _ = render(rng, train_y)
    flip = rng.random(train_y.size) < label_noise
    noisy = train_y.copy()
    noisy[flip] = (train_y[flip] + rng.integers(1, k, int(flip.sum()))) % k
    test_y = rng.permutation(np.repeat(np.arange(k), n_test))
    test_x, _ = render(rng, test_y)
    _write_set(out, "train", train_x, noisy)
    _write_set(out, "t10k", test_x, test_y)
    (out / "classes.json").write_text(json.dumps(CATEGORIES) + "\n", encoding="utf-8")
    names = [*CATEGORIES, NEW_CATEGORY]
    new_y = test_y.copy()
    new_y[rng.random(new_y.size) < 0.25] = k
    new_x, _ = render(rng, new_y, names)
    dark_x, _ = render(rng, test_y, gain=0.45)
    drift = {"new_category": (new_x, new_y), "dark": (dark_x, test_y), "blur": (_blur(test_x), test_y)}
    for name, (x, y) in drift.items():
        _write_set(out / "drift" / name, "t10k", x, y)
        classes = names if name == "new_category" else CATEGORIES
        (out / "drift" / name / "classes.json").write_text(json.dumps(classes) + "\n", encoding="utf-8")
    manifest = {
        "classes": CATEGORIES,
        "size": [SIZE, SIZE],
        "seed": seed,
        "train": int(train_y.size),
        "test": int(test_y.size),
        "label_noise": label_noise,
        "noisy_labels": int(flip.sum()),
        "drift": {
            name: {"description": DRIFT_SCENARIOS[name], "test": len(drift[name][1])} for name in drift
        },
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
