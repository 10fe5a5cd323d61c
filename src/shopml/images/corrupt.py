"""Failing-Loudly-style corruptions of product photos, to measure what the drift checks catch.

Each corruption takes uint8 photos ``[N, H, W]`` and a severity and returns new uint8 photos of the same
shape (the input is not changed), drawing any randomness from the generator it is given:

* ``noise`` — additive Gaussian noise, standard deviation ``severity`` on the [0, 1] pixel scale;
* ``blur`` — Gaussian blur of standard deviation ``severity`` pixels (a camera out of focus);
* ``brightness`` — pixels multiplied by ``severity`` (darker studio lighting below 1);
* ``rotation`` — rotated by a random angle in ``±severity`` degrees (a photo taken askew);
* ``new_category`` — a share ``severity`` of the photos replaced by photos of a category the model never
  saw (the ``pool`` argument).

Severities follow Rabanser, Günnemann & Lipton, "Failing Loudly" (NeurIPS 2019): small, medium, large.

>>> x = np.full((2, 28, 28), 100, np.uint8)
>>> corrupt(x, "brightness", 0.5, np.random.default_rng(0))[0, 0, 0], x[0, 0, 0]
(np.uint8(50), np.uint8(100))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from shopml.errors import ConfigError, SchemaError

__all__ = ["CORRUPTIONS", "SEVERITIES", "corrupt"]

#: Severity per corruption: small, medium, large.
SEVERITIES: dict[str, tuple[float, float, float]] = {
    "noise": (0.02, 0.06, 0.15),
    "blur": (0.5, 0.8, 1.2),
    "brightness": (0.9, 0.7, 0.45),
    "rotation": (5.0, 15.0, 40.0),
    "new_category": (0.1, 0.25, 0.5),
}
CORRUPTIONS = tuple(SEVERITIES)


def _to_uint8(f: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


def _noise(x: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    return _to_uint8(x.astype(np.float64) + rng.normal(0.0, s * 255.0, x.shape))


def _blur(x: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return _to_uint8(gaussian_filter(x.astype(np.float64), sigma=(0, s, s), mode="nearest"))


def _brightness(x: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    return _to_uint8(x.astype(np.float64) * s)


def _rotation(x: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import rotate

    angles = rng.uniform(-s, s, len(x))
    out = [
        rotate(img.astype(np.float64), a, reshape=False, order=1, mode="constant")
        for img, a in zip(x, angles, strict=True)
    ]
    return _to_uint8(np.stack(out)) if out else x.copy()


_APPLY: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "noise": _noise,
    "blur": _blur,
    "brightness": _brightness,
    "rotation": _rotation,
}


def corrupt(
    x: np.ndarray,
    name: str,
    severity: float,
    rng: np.random.Generator,
    pool: np.ndarray | None = None,
) -> np.ndarray:
    """Photos ``x`` corrupted by ``name`` at ``severity``; ``pool``: photos of an unseen category (for
    ``new_category``, drawn with replacement)."""
    a = np.asarray(x)
    if a.ndim != 3 or a.dtype != np.uint8:
        raise SchemaError(f"photos must be uint8 [N, H, W], got {a.dtype} {list(a.shape)}")
    if name not in SEVERITIES:
        raise ConfigError(f"unknown corruption '{name}' (known: {list(CORRUPTIONS)})")
    if name != "new_category":
        return _APPLY[name](a, float(severity), rng)
    if not 0 <= severity <= 1:
        raise ConfigError(
            f"new_category's severity is the share of replaced photos, in [0, 1]; got {severity}"
        )
    if pool is None or len(pool) == 0 or np.asarray(pool).shape[1:] != a.shape[1:]:
        raise SchemaError(f"new_category needs a pool of photos shaped [M, {a.shape[1]}, {a.shape[2]}]")
    out = a.copy()
    hit = np.flatnonzero(rng.random(len(a)) < severity)
    out[hit] = np.asarray(pool)[rng.integers(0, len(pool), hit.size)]
    return out
