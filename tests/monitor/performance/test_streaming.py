"""River detectors on the error stream versus a dummy periodic baseline."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.errors import ConfigError, DataError
from shopml.monitor.performance.streaming import detect_stream, periodic_baseline

N, ONSET, SEEDS = 4000, 2500, 30


def _stream(seed: int, jump: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.full(N, 0.05)
    if jump:
        p[ONSET:] = 0.20
    return (rng.random(N) < p).astype(float)


def _score(alarms: list[int]) -> tuple[bool, int | None, int]:
    """(detected within 1000 steps of onset, delay, false alarms before onset)."""
    false = sum(a < ONSET for a in alarms)
    hits = [a - ONSET for a in alarms if ONSET <= a < ONSET + 1000]
    return bool(hits), (hits[0] if hits else None), false


@pytest.mark.parametrize("name", ["adwin", "page_hinkley", "ddm"])
def test_detector_beats_periodic_dummy(name: str) -> None:
    quiet = sum(not detect_stream(_stream(s, False), detectors=[name])[0].drifts for s in range(SEEDS))
    assert quiet / SEEDS >= 0.8, f"{name} alarmed on {SEEDS - quiet} of {SEEDS} stationary streams"
    delays, false, detected = [], 0, 0
    for s in range(SEEDS):
        res = detect_stream(_stream(100 + s, True), detectors=[name])[0]
        hit, delay, f = _score([a.index for a in res.drifts])
        detected += hit
        false += f
        if delay is not None:
            delays.append(delay)
    assert detected / SEEDS >= 0.9
    assert np.median(delays) < 400
    dummy = periodic_baseline(N)
    d_hit, _, d_false = _score(dummy)
    # the dummy "detects" with delay < 100, but at the price of ~25 false alarms per stream
    assert d_hit and d_false >= 20 and false / SEEDS < 0.3


def test_warning_comes_before_drift() -> None:
    res = detect_stream(_stream(5, True), detectors=["ddm", "adwin", "page_hinkley"])
    for r in res:
        assert r.drifts and r.warnings, r.detector
        assert r.warnings[0].index <= r.drifts[0].index
        assert r.drifts[0].error_after > r.drifts[0].error_before


def test_improvement_is_not_an_alarm() -> None:
    rng = np.random.default_rng(3)
    p = np.where(np.arange(N) < ONSET, 0.2, 0.02)
    res = detect_stream((rng.random(N) < p).astype(float))
    assert all(not r.drifts for r in res)


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="unknown stream detector"):
        detect_stream(np.zeros(10), detectors=["kswin"])
    with pytest.raises(DataError, match=r"values in \[0, 1\]"):
        detect_stream(np.array([1.5, 1.0]))
    with pytest.raises(ConfigError, match="ddm watches 0/1 error streams only"):
        detect_stream(np.array([0.5, 1.0]), detectors=["ddm"])
    # a real-valued stream (a regression's scaled errors): ADWIN and Page-Hinkley, no DDM
    assert [r.detector for r in detect_stream(np.array([0.5, 0.25]))] == ["adwin", "page_hinkley"]
    assert detect_stream(np.empty(0))[0].n == 0
