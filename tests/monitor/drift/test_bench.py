"""Smoke test of the drift benchmark at a tiny size (the real run is ``python -m benchmarks.bench_drift``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.bench_drift import make_table, part_compare, scipy_loop, window_child


def test_benchmark_runs_at_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    part_compare(rows=3000, repeats=1)
    window_child(window_rows=20_000, folder=tmp_path)
    out = capsys.readouterr().out
    assert "speed-up" in out and "peak RSS" in out and "20,000-row Parquet window" in out


def test_baseline_flags_a_big_shift() -> None:
    assert scipy_loop(make_table(2000, 1), make_table(2000, 2, shift=1.0)) >= 3
