"""Per-photo statistics that drift visibly when the studio, the camera or the seller changes.

``brightness`` is the mean pixel value, ``contrast`` the standard deviation of the pixels, and
``sharpness`` the variance of the 4-neighbour Laplacian (low for blurred photos), all on the [0, 1]
scale of the served tensor. NumPy only, so the server can log them beside each prediction.

>>> import numpy as np
>>> x = np.zeros((2, 1, 4, 4), np.float32); x[1, 0, 1:3, 1:3] = 1.0
>>> s = image_stats(x)
>>> [round(float(v), 3) for v in s["brightness"]], [round(float(v), 3) for v in s["contrast"]]
([0.0, 0.25], [0.0, 0.433])
"""

from __future__ import annotations

import numpy as np

from shopml.errors import SchemaError

__all__ = ["STATS", "image_stats"]

#: The statistics' names, in the order :func:`image_stats` returns them (also their log columns).
STATS = ("brightness", "contrast", "sharpness")


def _as_float(x: np.ndarray) -> np.ndarray:
    """uint8 (0–255) or float ([0, 1]) photos, ``[N, H, W]`` or ``[N, 1, H, W]`` → float32 ``[N, H, W]``."""
    a = np.asarray(x)
    if a.ndim == 4:
        if a.shape[1] != 1:
            raise SchemaError(f"photos must have one (grey) channel, got shape {list(a.shape)}")
        a = a[:, 0]
    if a.ndim != 3:
        raise SchemaError(f"photos must be [N, H, W] or [N, 1, H, W], got shape {list(a.shape)}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    return a.astype(np.float32, copy=False)


def image_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """Brightness, contrast and sharpness per photo (float64 arrays of length N)."""
    a = _as_float(x)
    n = a.shape[0]
    flat = a.reshape(n, -1)
    brightness = flat.mean(axis=1, dtype=np.float64)
    contrast = flat.std(axis=1, dtype=np.float64)
    if a.shape[1] < 3 or a.shape[2] < 3:
        sharpness = np.zeros(n, np.float64)
    else:
        lap = a[:, :-2, 1:-1] + a[:, 2:, 1:-1] + a[:, 1:-1, :-2] + a[:, 1:-1, 2:] - 4.0 * a[:, 1:-1, 1:-1]
        sharpness = lap.reshape(n, -1).var(axis=1, dtype=np.float64)
    return {"brightness": brightness, "contrast": contrast, "sharpness": sharpness}
