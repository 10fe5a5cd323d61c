"""Multivariate drift: a domain classifier that tries to tell reference rows from current rows.

Both profiles' bounded row samples (at most ``multivariate_rows`` each) are split in half; a small
gradient-boosted tree model (:class:`~shopml.monitor.drift.boosting.BoostedTrees`: 40 trees of depth 3,
XGBoost's ``hist`` algorithm in NumPy) learns "is this row current?" on one half and is scored on the
other. The held-out AUC comes with a Hanley–McNeil 95% interval and a
one-sided Mann–Whitney p-value (valid because the scored half was never seen in fitting). Drift is
flagged when ``p < alpha`` AND ``AUC >= min_auc``; the features with the largest gain are named.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from shopml.monitor.drift.boosting import BoostedTrees
from shopml.monitor.drift.report import MultivariateDrift
from shopml.profile.reference import Profile, float_values
from shopml.schema import FeatureKind
from shopml.stats.special import normal_sf

__all__ = ["domain_classifier"]

MIN_ROWS_PER_SIDE = 50


def _matrix(
    table: pa.Table, names: list[str], kinds: dict[str, FeatureKind], codes: dict[str, dict[str, int]]
) -> npt.NDArray[np.float64]:
    cols = []
    for n in names:
        col = table.column(n)
        if kinds[n] == FeatureKind.NUMERIC:
            cols.append(float_values(col, nulls="nan"))
        else:
            values = pc.cast(col, pa.string()).to_pylist()
            cols.append(np.array([np.nan if v is None else codes[n].get(v, -1) for v in values], float))
    return np.column_stack(cols) if cols else np.zeros((table.num_rows, 0))


def domain_classifier(
    reference: Profile, current: Profile, features: list[str], alpha: float, min_auc: float, seed: int = 0
) -> MultivariateDrift:
    """Fit the domain classifier on the two profiles' samples and judge the separation."""
    ref, cur = reference.sample, current.sample
    names = [
        n
        for n in features
        if n in reference.features
        and ref is not None
        and cur is not None
        and n in ref.column_names
        and n in cur.column_names
    ]
    n_ref = 0 if ref is None else ref.num_rows
    n_cur = 0 if cur is None else cur.num_rows
    if ref is None or cur is None or not names or min(n_ref, n_cur) < MIN_ROWS_PER_SIDE:
        return MultivariateDrift(
            method="domain_classifier",
            min_auc=min_auc,
            n_reference=n_ref,
            n_current=n_cur,
            verdict="insufficient_data",
        )
    kinds = {n: reference.schema[n].kind for n in names}
    codes: dict[str, dict[str, int]] = {}
    for n in names:
        if kinds[n] != FeatureKind.NUMERIC:
            cats = sorted(
                {str(v) for v in pc.cast(ref.column(n), pa.string()).drop_null().to_pylist()}
                | {str(v) for v in pc.cast(cur.column(n), pa.string()).drop_null().to_pylist()}
            )
            codes[n] = {c: i for i, c in enumerate(cats)}
    x = np.vstack([_matrix(ref, names, kinds, codes), _matrix(cur, names, kinds, codes)])
    y = np.concatenate([np.zeros(n_ref), np.ones(n_cur)])
    rng = np.random.default_rng(seed)
    fit = np.zeros(len(y), bool)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        fit[rng.permutation(idx)[: len(idx) // 2]] = True
    model = BoostedTrees().fit(x[fit], y[fit])
    scores = model.predict_proba(x[~fit])
    yt = y[~fit]
    pos, neg = scores[yt == 1], scores[yt == 0]
    u_statistic, u_pvalue = mann_whitney_greater(pos, neg)
    auc = u_statistic / (len(pos) * len(neg))
    se = _hanley_mcneil(auc, len(pos), len(neg))
    gain = model.total_gain()
    total = sum(gain.values()) or 1.0
    top = {names[k]: v / total for k, v in sorted(gain.items(), key=lambda kv: -kv[1])[:5]}
    drifted = bool(u_pvalue < alpha and auc >= min_auc)
    return MultivariateDrift(
        method="domain_classifier",
        auc=auc,
        auc_low=max(0.0, auc - 1.96 * se),
        auc_high=min(1.0, auc + 1.96 * se),
        p_value=u_pvalue,
        min_auc=min_auc,
        n_reference=n_ref,
        n_current=n_cur,
        top_features=top,
        drifted=drifted,
        verdict="drift" if drifted else "ok",
    )


def mann_whitney_greater(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    """``scipy.stats.mannwhitneyu(x, y, alternative="greater")`` as (U of ``x``, p-value): the normal
    approximation with tie and continuity corrections that scipy uses when both samples exceed 8 rows,
    without importing ``scipy.stats`` (~1 s of CPU, most of a ``shopml drift`` start-up)."""
    n1, n2 = len(x), len(y)
    if n1 <= 8 or n2 <= 8:  # scipy may use its exact distribution here
        from scipy import stats

        res = stats.mannwhitneyu(x, y, alternative="greater")
        return float(res.statistic), float(res.pvalue)
    # scipy's arithmetic step by step, in the inputs' float type (XGBoost scores are float32)
    dtype = np.result_type(x, y) if np.issubdtype(np.result_type(x, y), np.floating) else np.float64
    n = n1 + n2
    _, inverse, ties = np.unique(np.concatenate([x, y]), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(ties) - (ties - 1) / 2.0)[inverse].astype(dtype)
    t = ties.astype(dtype)
    u1 = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):  # all tied: s is 0 (or NaN in float32)
        s = np.sqrt(n1 * n2 / 12 * ((n + 1) - np.sum(t**3 - t) / (n * (n - 1))))
        z = (u1 - n1 * n2 / 2 - 0.5) / s
    return float(u1), float(np.clip(normal_sf(float(z)), 0.0, 1.0))


def _hanley_mcneil(auc: float, n_pos: int, n_neg: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))
