"""Concept drift on the per-prediction error stream with River's detectors, at warning and drift levels.

The stream is one error per labelled prediction in event-time order, as the model's kind defines it
(:meth:`shopml.kinds.ModelKind.row_errors`): ``decision != label`` (0/1) for a binary model, a wrong class
(0/1) for a multiclass one, the absolute error over a scale, in [0, 1], for a regression. Detectors:

* ``ddm`` — River's DDM (0/1 streams only: it models a Bernoulli error rate): warning at 2.5σ, drift at
  3.5σ above the best error rate seen, after 500 warm-up steps. (River's defaults — 2σ/3σ after 30 —
  alarmed on 17 of 30 stationary streams at a 5% error rate, measured in
  ``tests/monitor/performance/test_streaming.py``'s setting; these settings on 4 of 60.)
* ``adwin`` — River's ADWIN (drift at δ=0.002, the default); warning = a second ADWIN at δ=0.05.
* ``page_hinkley`` — River's Page-Hinkley watching for an *increase* (drift at λ=50, δ=0.005, the
  defaults); warning = a second one at λ=25.

Only increases of the error rate are reported (an improving model is not an alarm). After a drift the
detectors restart from the new level, as River does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import numpy as np
from river import drift

from shopml.errors import ConfigError, DataError

__all__ = ["DETECTORS", "StreamAlarm", "StreamResult", "detect_stream", "periodic_baseline"]


class _Detector(Protocol):
    @property
    def drift_detected(self) -> bool: ...

    def update(self, x: float) -> Any: ...


@dataclass(frozen=True)
class _Spec:
    drift: Callable[[], _Detector]
    warning: Callable[[], _Detector] | None
    native_warning: bool = False
    binary_only: bool = False  # needs a 0/1 stream


DETECTORS: dict[str, _Spec] = {
    "ddm": _Spec(
        lambda: drift.binary.DDM(warm_start=500, warning_threshold=2.5, drift_threshold=3.5),
        None,
        native_warning=True,
        binary_only=True,
    ),
    "adwin": _Spec(lambda: drift.ADWIN(delta=0.002), lambda: drift.ADWIN(delta=0.05)),
    "page_hinkley": _Spec(
        lambda: drift.PageHinkley(threshold=50.0, delta=0.005, mode="up"),
        lambda: drift.PageHinkley(threshold=25.0, delta=0.005, mode="up"),
    ),
}


@dataclass(frozen=True)
class StreamAlarm:
    """A warning or drift at stream position ``index`` (and its event time, when known)."""

    level: Literal["warning", "drift"]
    index: int
    time: datetime | None
    error_before: float
    error_after: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "level": self.level,
            "index": self.index,
            "time": None if self.time is None else self.time.isoformat(),
            "error_before": self.error_before,
            "error_after": self.error_after,
        }


@dataclass(frozen=True)
class StreamResult:
    """One detector's alarms over the stream."""

    detector: str
    n: int
    error_rate: float
    drifts: list[StreamAlarm] = field(default_factory=list)
    warnings: list[StreamAlarm] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "detector": self.detector,
            "n": self.n,
            "error_rate": self.error_rate,
            "drifts": [a.to_dict() for a in self.drifts],
            "warnings": [a.to_dict() for a in self.warnings],
        }


def _rates(errors: np.ndarray, i: int, start: int, span: int = 500) -> tuple[float, float]:
    before = errors[max(start, i - 2 * span) : max(start, i - span)]
    after = errors[max(start, i - span) : i + 1]
    return (float(before.mean()) if before.size else float("nan"), float(after.mean()) if after.size else 0.0)


def _time(times: Sequence[datetime] | np.ndarray | None, i: int) -> datetime | None:
    if times is None:
        return None
    t = times[i]
    if isinstance(t, np.datetime64):
        return datetime.fromtimestamp(t.astype("datetime64[us]").astype(np.int64) / 1e6, UTC)
    return t if isinstance(t, datetime) else None


def _run(name: str, errors: np.ndarray, times: Sequence[datetime] | np.ndarray | None) -> StreamResult:
    spec = DETECTORS[name]
    det, warn = spec.drift(), spec.warning() if spec.warning else None
    drifts: list[StreamAlarm] = []
    warnings: list[StreamAlarm] = []
    start = 0  # position of the last restart: rates compare the recent and earlier error since then
    warned = False
    for i, x in enumerate(errors.tolist()):
        det.update(x)
        if warn is not None:
            warn.update(x)
        warning_now = (
            getattr(det, "warning_detected", False)
            if spec.native_warning
            else bool(warn is not None and warn.drift_detected)
        )
        if det.drift_detected:
            before, after = _rates(errors, i, start)
            if not after <= before:  # an increase (or no earlier data): report it
                drifts.append(StreamAlarm("drift", i, _time(times, i), before, after))
            det, warn, start, warned = spec.drift(), spec.warning() if spec.warning else None, i + 1, False
        elif warning_now and not warned:
            before, after = _rates(errors, i, start)
            if not after <= before:
                warnings.append(StreamAlarm("warning", i, _time(times, i), before, after))
                warned = True
    rate = float(errors.mean()) if errors.size else float("nan")
    return StreamResult(name, int(errors.size), rate, drifts, warnings)


def detect_stream(
    errors: np.ndarray,
    times: Sequence[datetime] | np.ndarray | None = None,
    detectors: Sequence[str] | None = None,
) -> list[StreamResult]:
    """Run each named detector over an error stream in [0, 1] (in event-time order); ``None``: ADWIN,
    Page-Hinkley and, on a 0/1 stream, DDM."""
    e = np.asarray(errors, dtype=np.float64)
    if e.size and not (np.isfinite(e).all() and (e >= 0).all() and (e <= 1).all()):
        raise DataError("the error stream must hold values in [0, 1] (0/1: decision != label)")
    binary = bool(np.isin(e, (0.0, 1.0)).all())
    names = list(detectors) if detectors is not None else ["adwin", "page_hinkley", "ddm"]
    unknown = [d for d in names if d not in DETECTORS]
    if unknown:
        raise ConfigError(f"unknown stream detector(s) {unknown}; known: {sorted(DETECTORS)}")
    if detectors is None:
        names = [d for d in names if binary or not DETECTORS[d].binary_only]
    elif not binary and any(DETECTORS[d].binary_only for d in names):
        raise ConfigError("ddm watches 0/1 error streams only; this stream holds errors between 0 and 1")
    if times is not None and len(times) != e.size:
        raise DataError(f"times has {len(times)} entries for {e.size} errors")
    return [_run(name, e, times) for name in names]


def periodic_baseline(n: int, every: int = 100) -> list[int]:
    """The dummy detector every real one must beat: an alarm every ``every`` steps."""
    return list(range(every - 1, n, every))
