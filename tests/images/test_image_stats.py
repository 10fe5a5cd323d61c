"""The per-photo statistics: scale, blur and bad shapes."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import SchemaError
from shopml.images.stats import STATS, image_stats


def test_uint8_and_float_photos_give_the_same_statistics() -> None:
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    f32 = (u8.astype(np.float32) / 255.0)[:, None]
    a, b = image_stats(u8), image_stats(f32)
    assert tuple(a) == STATS
    for name in STATS:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5)


def test_blur_lowers_sharpness_and_darkening_lowers_brightness() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((20, 1, 28, 28)).astype(np.float32)
    blurred = x.copy()
    blurred[:, 0, 1:-1, 1:-1] = (
        sum(x[:, 0, 1 + dy : 27 + dy, 1 + dx : 27 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9.0
    )
    assert np.all(image_stats(blurred)["sharpness"] < image_stats(x)["sharpness"])
    assert np.all(image_stats(x * 0.5)["brightness"] < image_stats(x)["brightness"])
    np.testing.assert_allclose(image_stats(x * 0.5)["contrast"], image_stats(x)["contrast"] * 0.5, rtol=1e-5)


def test_a_colour_photo_is_refused_with_its_shape() -> None:
    with pytest.raises(SchemaError, match=r"one \(grey\) channel.*\[2, 3, 28, 28\]"):
        image_stats(np.zeros((2, 3, 28, 28), np.float32))
