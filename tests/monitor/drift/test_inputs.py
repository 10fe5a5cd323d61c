"""The drift input path: a Parquet file read column by column (categorical strings as dictionaries)
gives the same report as the dataset path and as the same rows in memory; the domain classifier's
Mann–Whitney p-value equals scipy's."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from shopml.monitor import DriftConfig, compare
from shopml.monitor.drift.multivariate import mann_whitney_greater


def _table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    country = rng.choice(["DE", "FR", "NL"], n, p=[0.5, 0.3, 0.2]).astype(object)
    country[rng.random(n) < 0.01] = None
    return pa.table(
        {
            "amount": rng.lognormal(3 + shift, 1, n),
            "hour": rng.integers(0, 24, n).astype(np.int64),
            "country": pa.array(country, pa.string()),
            "is_new_device": rng.random(n) < 0.2,
            "unused": rng.random(n),
        }
    )


def _same(a: dict[str, object], b: dict[str, object]) -> None:
    a, b = dict(a), dict(b)
    a.pop("created_at"), b.pop("created_at")
    assert a == b


@pytest.mark.parametrize(("multivariate", "batch_rows"), [(False, 3_000), (True, 3_000), (True, 1_500)])
def test_a_parquet_file_reads_like_the_same_rows_in_memory(
    tmp_path: Path, multivariate: bool, batch_rows: int
) -> None:
    """Row groups of 2,000 rows: decoded a column at a time (batches of 3,000) or cut into batches
    (1,500), the report is the dataset path's."""
    ref, cur = _table(9_000, 1), _table(7_000, 2, shift=0.2)
    pq.write_table(ref, tmp_path / "ref.parquet", row_group_size=2_000)
    pq.write_table(cur, tmp_path / "cur.parquet", row_group_size=2_000)
    cfg = DriftConfig(batch_rows=batch_rows, exact_max_rows=1_000, multivariate=multivariate)
    on_disk = compare(tmp_path / "ref.parquet", tmp_path / "cur.parquet", config=cfg)
    assert on_disk.feature("amount").drifted and on_disk.feature("country").method == "exact"
    assert on_disk.feature("country").verdict == "ok"
    # a folder of one file goes through the dataset path: the same report
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref.parquet").rename(tmp_path / "ref" / "part-0.parquet")
    in_folder = compare(tmp_path / "ref", tmp_path / "cur.parquet", config=cfg)
    _same(on_disk.to_dict(), in_folder.to_dict())


def test_small_files_keep_exact_tests(tmp_path: Path) -> None:
    pq.write_table(_table(800, 3), tmp_path / "ref.parquet")
    pq.write_table(_table(600, 4, shift=0.5), tmp_path / "cur.parquet")
    cfg = DriftConfig(multivariate=False)
    report = compare(tmp_path / "ref.parquet", tmp_path / "cur.parquet", config=cfg)
    assert report.feature("amount").method == "exact" and report.feature("amount").drifted


def test_mann_whitney_equals_scipy_with_ties_and_float32() -> None:
    rng = np.random.default_rng(0)
    for i in range(60):
        n1, n2 = rng.integers(9, 800, 2)
        dtype = [np.float32, np.float64, np.int64][i % 3]
        x = (np.round(rng.normal(0.2 * (i % 4), 1, n1), i % 3) * 10).astype(dtype)
        y = (np.round(rng.normal(0, 1, n2), i % 3) * 10).astype(dtype)
        ref = stats.mannwhitneyu(x, y, alternative="greater")
        u, p = mann_whitney_greater(x, y)
        assert u == float(ref.statistic)
        # scipy takes the normal tail in float32 for float32 input; ours is always in double (math.erfc)
        assert math.isclose(p, float(ref.pvalue), rel_tol=1e-6 if dtype == np.float32 else 1e-12)
    tiny = stats.mannwhitneyu([3.0, 4.0, 5.0], [1.0, 2.0], alternative="greater")  # scipy's exact branch
    assert mann_whitney_greater(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0])) == (
        float(tiny.statistic),
        float(tiny.pvalue),
    )


def test_drift_on_files_imports_no_heavy_library(tmp_path: Path) -> None:
    """Sketches, tail probabilities and the domain classifier need neither scipy, pandas, scikit-learn
    nor XGBoost (their imports would cost a command seconds), nor Arrow's dataset layer for one file."""
    pq.write_table(_table(9_000, 1), tmp_path / "ref.parquet")
    pq.write_table(_table(9_000, 2), tmp_path / "cur.parquet")
    heavy = ("scipy", "pandas", "sklearn", "xgboost", "pyarrow.dataset")
    code = (
        "import sys\nfrom shopml.monitor import DriftConfig, compare\n"
        f"r = compare({str(tmp_path / 'ref.parquet')!r}, {str(tmp_path / 'cur.parquet')!r})\n"
        "assert r.multivariate is not None and r.multivariate.auc is not None\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
