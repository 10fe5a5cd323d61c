"""Drift of a model's embeddings: a kernel two-sample test (MMD) with a permutation p-value, and the
check of logged vector and per-row columns against a reference sample recorded with the bundle.

**The test** (``mmd``). Reference and current embeddings (each subsampled to at most ``max_rows``) are
pooled; a Gaussian kernel with the median pairwise distance as bandwidth (computed on the pool, so it
does not depend on which rows are "current") gives the maximum mean discrepancy. The p-value counts how
often ``n_permutations`` random relabellings of the pool reach the observed (biased) MMD²:
``p = (1 + #{perm >= observed}) / (1 + n_permutations)``, which is valid at every level by construction
(exchangeable rows under no drift). Every permutation is one quadratic form ``sᵀKs`` with ``s = a/m -
(1-a)/n``, so all of them are one matrix product. The reported statistic is the unbiased MMD², the
effect size its square root (in kernel units, between 0 and √2).

Why MMD and not a domain classifier: Rabanser et al. (Failing Loudly, 2019) found kernel two-sample
tests on learned representations the most powerful shift detectors and domain classifiers weak with few
samples; the permutation test needs no held-out half (all rows count) and no model fit.

**The reference sample** (``reference_sample.npz`` beside ``bundle.json``): arrays named after log
columns — 2-D arrays (``embedding`` ``[N, D]``) are tested with ``mmd``, 1-D arrays (per-row numbers
such as a photo's ``brightness``) with the exact KS test of the registry; all their p-values are
corrected together (Benjamini–Hochberg), so a model's window raises a false alarm about ``alpha`` of the
time whatever the number of columns, and a KS column must also pass the numeric relevance floor
(normalised Wasserstein). Any model whose
server logs such columns (photos, texts) gets the check by writing that file at training.

>>> rng = np.random.default_rng(0)
>>> same = mmd_test(rng.normal(size=(80, 4)), rng.normal(size=(80, 4)), seed=1)
>>> moved = mmd_test(rng.normal(size=(80, 4)), rng.normal(0.8, 1, size=(80, 4)), seed=1)
>>> same.p_value > 0.05, moved.p_value < 0.01
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from shopml.errors import DataError, SchemaError
from shopml.monitor.drift.registry import ColumnData, DriftTest, TestScore, register

if TYPE_CHECKING:
    from shopml.logstore import PredictionLog
    from shopml.monitor.drift.config import DriftConfig
    from shopml.monitor.drift.outputs import OutputCheck
    from shopml.registry import ModelBundle

__all__ = [
    "EMBEDDING",
    "MAX_ROWS",
    "N_PERMUTATIONS",
    "SAMPLE_FILE",
    "MMDResult",
    "MMDTest",
    "compare_sample",
    "embedding_column",
    "load_sample",
    "logged_vectors",
    "mmd_test",
    "sample_drift",
    "save_sample",
]

FloatArray = npt.NDArray[np.float64]
#: The column kind of vectors (one embedding per row).
EMBEDDING = "embedding"
#: The reference sample's file in a bundle folder.
SAMPLE_FILE = "reference_sample.npz"
#: Rows per side the test uses (a random subsample above): bounds the cost (~0.1 s) and the power, so a
#: huge window cannot turn an irrelevant shift significant.
MAX_ROWS = 500
N_PERMUTATIONS = 200


@dataclass(frozen=True)
class MMDResult:
    """One MMD test: unbiased MMD², its permutation p-value, the kernel bandwidth and the rows used."""

    mmd2: float
    p_value: float
    bandwidth: float
    n_reference: int
    n_current: int

    @property
    def effect_size(self) -> float:
        """√max(MMD², 0): the distance between the two mean embeddings in kernel space."""
        return float(np.sqrt(max(self.mmd2, 0.0)))


def _as_matrix(x: npt.ArrayLike, side: str) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise SchemaError(f"{side} embeddings must be a 2-D array [rows, dimensions], got shape {a.shape}")
    return a[np.isfinite(a).all(axis=1)]


def mmd_test(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    *,
    n_permutations: int = N_PERMUTATIONS,
    max_rows: int = MAX_ROWS,
    seed: int = 0,
) -> MMDResult:
    """Permutation MMD test of ``current`` against ``reference`` (rows with a non-finite value dropped)."""
    ref, cur = _as_matrix(reference, "reference"), _as_matrix(current, "current")
    if ref.shape[1] != cur.shape[1]:
        raise SchemaError(f"embedding sizes differ: reference {ref.shape[1]}, current {cur.shape[1]}")
    if n_permutations < 1 or max_rows < 2:
        raise ValueError(f"n_permutations must be >= 1 and max_rows >= 2, got {n_permutations}, {max_rows}")
    rng = np.random.default_rng(seed)
    if len(ref) > max_rows:
        ref = ref[rng.choice(len(ref), max_rows, replace=False)]
    if len(cur) > max_rows:
        cur = cur[rng.choice(len(cur), max_rows, replace=False)]
    m, n = len(ref), len(cur)
    if m < 2 or n < 2:
        return MMDResult(0.0, 1.0, 0.0, m, n)
    z = np.vstack([ref, cur])
    sq = np.einsum("ij,ij->i", z, z)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (z @ z.T), 0.0)
    off = d2[np.triu_indices(m + n, 1)]
    h2 = float(np.median(off[off > 0])) if np.any(off > 0) else 1.0  # median heuristic (squared)
    k = np.exp(-d2 / h2)
    # column 0: the observed split; the others: random relabellings of the pool
    member = np.zeros((m + n, n_permutations + 1), dtype=bool)
    member[:m, 0] = True
    chosen = np.argsort(rng.random((n_permutations, m + n)), axis=1)[:, :m]  # m rows per relabelling
    member[chosen, np.arange(1, n_permutations + 1)[:, None]] = True
    s = np.where(member, 1.0 / m, -1.0 / n)
    biased = np.einsum("ij,ij->j", s, k @ s)
    p = float((1 + np.sum(biased[1:] >= biased[0] - 1e-12)) / (1 + n_permutations))
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    mmd2 = (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2.0 * kxy.mean()
    )
    return MMDResult(float(mmd2), p, float(np.sqrt(h2)), m, n)


@register
class MMDTest(DriftTest):
    """Kernel MMD between two sets of embeddings, permutation p-value (``ColumnData.values`` 2-D)."""

    name = "mmd"
    kinds = frozenset({EMBEDDING})
    uses_p_value = True
    default_threshold = 0.05
    description = "maximum mean discrepancy (Gaussian kernel, median bandwidth), permutation p-value"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        r = self._run(ref, cur)
        return r.mmd2, r.p_value, "permutation", None

    def score(self, ref: ColumnData, cur: ColumnData) -> TestScore:
        """MMD², its p-value and √MMD² as the effect size (no borrowed univariate test)."""
        r = self._run(ref, cur)
        return TestScore(r.mmd2, r.p_value, r.effect_size, "permutation")

    @staticmethod
    def _run(ref: ColumnData, cur: ColumnData) -> MMDResult:
        if ref.values is None or cur.values is None:
            raise DataError("the mmd test needs the embeddings themselves (ColumnData.values), not sketches")
        return mmd_test(ref.values, cur.values)


def embedding_column(values: npt.ArrayLike) -> ColumnData:
    """Embeddings ``[N, D]`` as the registry's column data (the sketch summarises the row norms)."""
    from shopml.profile.sketch import NumericSketch

    x = np.asarray(values, dtype=np.float64)
    return ColumnData(NumericSketch.from_values(np.linalg.norm(x, axis=1)), x)


def save_sample(folder: str | Path, columns: dict[str, np.ndarray]) -> Path:
    """Write the reference sample (arrays named after log columns) to ``folder/reference_sample.npz``."""
    path = Path(folder) / SAMPLE_FILE
    with path.open("wb") as fh:
        np.savez_compressed(fh, **{k: np.asarray(v) for k, v in columns.items()})  # type: ignore[arg-type]
    return path


def load_sample(folder: str | Path) -> dict[str, np.ndarray] | None:
    """The reference sample of a bundle folder, or ``None`` when it records none."""
    path = Path(folder) / SAMPLE_FILE
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {k: np.asarray(data[k]) for k in data.files}


def logged_vectors(table: Any, column: str) -> FloatArray:
    """A logged list column (one vector per row, nulls dropped) as a matrix; unequal lengths are an error."""
    import pyarrow.compute as pc

    col = table.column(column).drop_null().combine_chunks()
    if len(col) == 0:
        return np.zeros((0, 0))
    lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
    if lengths.min() != lengths.max():
        raise DataError(f"log column '{column}' holds vectors of sizes {lengths.min()}–{lengths.max()}")
    flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    return flat.reshape(len(col), int(lengths[0]))


def sample_drift(
    log: PredictionLog,
    bundle: ModelBundle,
    start: datetime,
    end: datetime,
    config: DriftConfig | None = None,
) -> list[OutputCheck]:
    """Checks of the logged columns the bundle's reference sample names, over ``[start, end)``
    (:func:`compare_sample`); none when the bundle records no sample or the window is empty."""
    sample = load_sample(bundle.path)
    if sample is None or log.count(start, end) == 0:
        return []
    names = [c for c in sample if c in log.columns]
    table = log.read(start, end, names)
    current = {
        n: logged_vectors(table, n)
        if sample[n].ndim == 2
        else table.column(n).drop_null().to_numpy(zero_copy_only=False).astype(np.float64)
        for n in names
    }
    return compare_sample({n: sample[n] for n in names}, current, config)


def compare_sample(
    reference: dict[str, np.ndarray], current: dict[str, np.ndarray], config: DriftConfig | None = None
) -> list[OutputCheck]:
    """``mmd`` on each 2-D (vector) column, exact ``ks`` on each 1-D one; all p-values corrected together
    (the config's ``correction``), so one window of one model raises a false alarm at most about
    ``alpha`` of the time; a ``ks`` column drifts only above the numeric relevance floor
    (``min_effect_numeric``). A column with fewer than ``min_rows`` values on a side is
    ``insufficient_data``."""
    from shopml.monitor.drift.config import DriftConfig
    from shopml.monitor.drift.outputs import OutputCheck
    from shopml.monitor.drift.registry import NUMERIC, adjust_p_values, get_test
    from shopml.profile.sketch import NumericSketch

    cfg = config or DriftConfig()
    checks: list[OutputCheck] = []
    tested: list[tuple[str, str, TestScore, int, int, str]] = []  # column, test, score, sizes, note
    for name, ref in reference.items():
        if name not in current:
            continue
        test = "mmd" if ref.ndim == 2 else "ks"
        if test == "mmd":
            a, b = ref, np.asarray(current[name])
        else:
            raw = np.asarray(current[name], dtype=np.float64)
            a, b = ref[np.isfinite(ref)].astype(np.float64), raw[np.isfinite(raw)]
        if min(len(a), len(b)) < cfg.min_rows:
            note = f"fewer than {cfg.min_rows} rows"
            checks.append(OutputCheck(name, test, "insufficient_data", len(a), len(b), note=note))
            continue
        if test == "mmd":
            r = mmd_test(a, b, seed=cfg.seed)
            score = TestScore(r.mmd2, r.p_value, r.effect_size, "permutation")
            note = f"{r.n_reference} vs {r.n_current} rows tested, bandwidth {r.bandwidth:.3g}"
        else:
            score = get_test("ks", NUMERIC).score(
                ColumnData(NumericSketch.from_values(a), a), ColumnData(NumericSketch.from_values(b), b)
            )
            note = ""
        tested.append((name, test, score, len(a), len(b), note))
    adjusted = adjust_p_values([t[2].p_value for t in tested], cfg.correction)
    for (name, test, s, na, nb, note), p in zip(tested, adjusted, strict=True):
        floor = cfg.min_effect_numeric if test == "ks" else 0.0
        drifted = p < cfg.alpha and s.effect_size >= floor
        text = f"p adjusted ({cfg.correction}) {p:.3g}" + (f"; {note}" if note else "")
        checks.append(
            OutputCheck(
                name, test, "drift" if drifted else "ok", na, nb, s.statistic, s.p_value, s.effect_size, text
            )
        )
    return checks
