"""Bootstrap draws as row weights: one matrix ``[resamples, rows]`` of multiplicities per chunk.

A resample is not a list of row indices but the number of times each row was drawn, so any metric
written over weighted cumulative counts evaluates a whole chunk of resamples at once, with no Python
loop over resamples. Three kinds of draw, combinable:

* **block** (``groups``): whole groups are drawn (rows that move together, such as a burst of frauds
  within the hour, count once, not as independent evidence); the block ids come from :func:`block_index`;
* **stratified** (``strata``): draws are made within each stratum, so every resample keeps each
  stratum's size (a rare class is never drawn away). With ``groups`` a block's stratum is the highest
  stratum among its rows (binary labels: "holds a positive");
* **Poisson** (``method="poisson"``): each unit gets an independent Poisson(1) weight instead of a
  multinomial count (resamples of different sizes; used where windows reuse one set of draws).

``sample_weight`` multiplies every resample (rows count that many times). Paired comparisons use the
same draws for both models (see :func:`shopml.stats.paired_difference`).

>>> w = next(resample_weights(3, 4, np.random.default_rng(0), strata=np.array([0, 0, 1, 1])))
>>> w.shape, w[:, :2].sum(axis=1).tolist(), w[:, 2:].sum(axis=1).tolist()
((3, 4), [2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

from shopml.errors import DataError

__all__ = ["CELLS", "block_index", "key_blocks", "resample_weights", "time_blocks"]

#: Matrix cells per chunk by default (bounds memory: ~24 MB per float64 array).
CELLS = 3_000_000
Method = Literal["multinomial", "poisson"]


def block_index(groups: np.ndarray, order: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Dense block number ``0..k-1`` of each row (rows taken in ``order`` when given) and ``k``.

    >>> ids, k = block_index(np.array([7, 3, 7, 9]))
    >>> ids.tolist(), k
    ([1, 0, 1, 2], 3)
    """
    g = np.asarray(groups)
    _, inverse = np.unique(g if order is None else g[order], return_inverse=True)
    ids = inverse.reshape(-1)
    return ids, int(ids.max()) + 1 if ids.size else 0


def time_blocks(times: np.ndarray, seconds: float) -> np.ndarray:
    """The ``seconds``-long block (counted from the epoch) each timestamp falls in.

    >>> t = np.array(["2026-01-01T00:10", "2026-01-01T00:50", "2026-01-01T01:05"], "datetime64[us]")
    >>> time_blocks(t, 3600).tolist()
    [490896, 490896, 490897]
    """
    us = np.asarray(times).astype("datetime64[us]").astype(np.int64)
    return us // int(seconds * 1_000_000)


def key_blocks(keys: Sequence[object], fallback: np.ndarray) -> np.ndarray:
    """A block per row from a key (rows sharing a key, e.g. a session, are resampled together): a stable
    63-bit hash of the key's text, the same in every process and window; rows without a key keep their
    ``fallback`` block (e.g. :func:`time_blocks`).

    >>> b = key_blocks(["s1", None, "s1", "s2"], np.array([5, 6, 7, 8]))
    >>> bool(b[0] == b[2] == key_blocks(["s1"], np.zeros(1))[0]), int(b[1]), bool(b[3] != b[0])
    (True, 6, True)
    """
    out = np.asarray(fallback, dtype=np.int64).copy()
    if len(out) != len(keys):
        raise DataError(f"keys and fallback differ in length: {len(keys)} vs {len(out)}")
    present = [i for i, k in enumerate(keys) if k is not None]
    if present:
        uniq, inverse = np.unique(np.asarray([str(keys[i]) for i in present]), return_inverse=True)
        codes = np.array(
            [int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "big") >> 1 for u in uniq],
            dtype=np.int64,
        )
        out[present] = codes[inverse.reshape(-1)]
    return out


def _counts(b: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial counts of ``b`` resamples of ``k`` units (one ``integers`` call, one ``bincount``)."""
    idx = rng.integers(0, k, size=(b, k)) + (np.arange(b) * k)[:, None]
    return np.bincount(idx.ravel(), minlength=b * k).reshape(b, k).astype(np.float64)


def _draw(
    b: int, k: int, unit_strata: np.ndarray | None, rng: np.random.Generator, method: Method
) -> np.ndarray:
    if method == "poisson":
        return rng.poisson(1.0, size=(b, k)).astype(np.float64)
    if unit_strata is None:
        return _counts(b, k, rng)
    out = np.zeros((b, k), dtype=np.float64)
    for s in np.unique(unit_strata):
        idx = np.flatnonzero(unit_strata == s)
        out[:, idx] = _counts(b, idx.size, rng)
    return out


def _check(name: str, values: np.ndarray | None, n: int) -> np.ndarray | None:
    if values is None:
        return None
    a = np.asarray(values).ravel()
    if a.size != n:
        raise DataError(f"{name} must hold one value per row ({n}), got {a.size}")
    return a


def resample_weights(
    n_resamples: int,
    n: int,
    rng: np.random.Generator,
    *,
    groups: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    method: Method = "multinomial",
    chunk: int | None = None,
    dtype: type[np.floating] = np.float64,
) -> Iterator[np.ndarray]:
    """Yield chunks of row weights (shape ``[b, n]``, ``b <= chunk``) totalling ``n_resamples`` rows.

    ``chunk`` defaults to as many resamples as fit in :data:`CELLS` cells of a ``[b, n]`` matrix. The
    random stream depends on the chunk size for multinomial draws: callers that must reproduce earlier
    numbers pass the chunk they used. ``dtype``: ``np.float32`` halves memory traffic (counts stay
    exact below 2**24).
    """
    if n_resamples < 1 or n < 1:
        raise DataError(f"a bootstrap needs n_resamples >= 1 and rows >= 1, got {n_resamples} and {n}")
    if method not in ("multinomial", "poisson"):
        raise DataError(f"resampling method must be 'multinomial' or 'poisson', got {method!r}")
    g = _check("groups", groups, n)
    st = _check("strata", strata, n)
    sw = _check("sample_weight", sample_weight, n)
    if sw is not None:
        sw = sw.astype(np.float64)
        if not np.isfinite(sw).all() or (sw < 0).any():
            raise DataError(f"sample_weight must hold {n} finite weights >= 0")
    gid, k, unit_strata = None, n, st
    if g is not None:
        gid, k = block_index(g)
        if st is not None:
            codes = np.unique(st, return_inverse=True)[1].reshape(-1)
            unit_strata = np.zeros(k, dtype=codes.dtype)
            np.maximum.at(unit_strata, gid, codes)
    step = max(1, CELLS // n) if chunk is None else chunk
    done = 0
    while done < n_resamples:
        b = min(step, n_resamples - done)
        w = _draw(b, k, unit_strata, rng, method)
        if dtype is not np.float64:
            w = w.astype(dtype)
        if gid is not None:
            w = w[:, gid]
        if sw is not None:
            w *= sw
        yield w
        done += b
