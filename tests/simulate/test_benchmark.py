"""Smoke test of the simulator benchmark's baseline and the benchmarks runner (tiny sizes, < 1 s)."""

from __future__ import annotations

import pytest
from benchmarks.__main__ import main as run_benchmarks
from benchmarks.__main__ import modules
from benchmarks.bench_simulate import naive


def test_naive_baseline_runs() -> None:
    assert naive(300) > 0


def test_runner_lists_and_rejects_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert "bench_simulate" in modules()
    assert run_benchmarks(["--list"]) == 0
    assert "bench_simulate" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run_benchmarks(["no_such_benchmark"])
