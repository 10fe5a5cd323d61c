"""What a monitoring run raises as events. Each rule appends one event, once per window and model
version (a re-run does not repeat it):

* ``drift`` / ``warning`` — the drift report's dataset verdict is ``drift`` (``shopml.monitor.compare``).
* ``performance`` / ``critical`` — the newest matured window's realised ``alert_metric`` interval lies
  wholly below ``reference - max_drop``. ``reference`` is the lower bound of the bundle's test-period
  interval (its point value when no interval was recorded): the test period is one short sample, and its
  point estimate alone made the stationary simulated shop raise "drops" that were only sampling noise.
  Once this version's first ``max_pool`` windows in production have matured, the lower bound of *their*
  realised interval is a second reference and the lower of the two counts: a test week can flatter a
  model (on one simulated seed the test said 0.90 [0.82, 0.97] and the same model realised about 0.55
  in its first production week, and on every later one: no drop, just a flattering test).
* ``performance`` / ``warning`` — the latest window's *estimated* interval lies wholly below the low end
  of the estimate's interval when the model was fresh (CBPE on its first ``max_pool`` windows, on as many
  rows, hour blocks resampled) minus ``max_drop``. (Not the bundle's test metric: CBPE on a few dozen
  expected positives is biased low against it. Not the fresh point value: at 24,000 simulated customers
  a bursty first week put it 0.2 above the stationary shop's later windows.)
* ``performance`` / ``warning`` — at least ``STREAM_QUORUM`` (2) of the stream detectors report a drift
  (error rate up) not reported before: one detector alone (DDM in particular) also fired on the
  stationary simulated shop.
* ``drift`` / ``warning`` — an output of the model's kind drifted (``output_drift``: a multiclass model's
  predicted classes, a regression model's values) in the latest window.

For an error metric (lower is better: a regression's MAE) the realised rule turns around: an alert when
the interval lies wholly *above* ``reference x (1 + max_drop)``, ``reference`` the upper bound of the
test interval (or of the fresh production interval, whichever is higher). The drop is relative there:
an error has the target's units, not a 0–1 scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopml.config.settings import PerformanceSettings
from shopml.journal.events import Event, Severity

if TYPE_CHECKING:
    from shopml.monitor.job import MonitorResult

__all__ = ["STREAM_QUORUM", "raise_alerts"]

#: Distinct stream detectors that must report a new drift for a stream event.
STREAM_QUORUM = 2


def raise_alerts(
    result: MonitorResult, cfg: PerformanceSettings, seen: set[str], last_stream: str
) -> list[Event]:
    """The events this run raises (see the module docstring); ``seen`` holds keys already reported and
    ``last_stream`` the time of the last reported stream alarm."""
    events: list[Event] = []
    ref = result.reference["value"]
    metric = str(result.reference.get("metric") or cfg.alert_metric)
    base = {"model_version": result.model_version, "window_seconds": result.window.total_seconds()}

    def add(key: str, severity: Severity, summary: str, evidence: dict[str, Any]) -> None:
        key = f"{key}:v{result.model_version}"
        if key not in seen:
            kind = "drift" if key.startswith("drift:") else "performance"
            events.append(
                Event(
                    ts=result.now,
                    kind=kind,
                    model=result.model,
                    severity=severity,
                    summary=summary,
                    evidence={"key": key, **base, **evidence},
                )
            )

    latest = result.windows[-1] if result.windows else None
    if result.drift is not None and result.drift.verdict == "drift" and latest is not None:
        add(
            f"drift:{latest.start.isoformat()}",
            "warning",
            f"data drift in {latest.start:%Y-%m-%d %H:%M}–{latest.end:%Y-%m-%d %H:%M}: "
            f"{', '.join(result.drift.drifted_features) or 'dataset'}",
            {
                "window_start": latest.start.isoformat(),
                "window_end": latest.end.isoformat(),
                "drifted_features": result.drift.drifted_features,
                "reasons": result.drift.reasons,
                "drift_share": result.drift.drift_share,
                "rows": latest.rows,
            },
        )
    drifted_outputs = [c for c in result.output_drift if c.drifted]
    if drifted_outputs and latest is not None:
        add(
            f"drift:output:{latest.start.isoformat()}",
            "warning",
            f"output drift in {latest.start:%Y-%m-%d %H:%M}–{latest.end:%Y-%m-%d %H:%M}: "
            + ", ".join(f"{c.column} ({c.test}, effect {c.effect_size:.3f})" for c in drifted_outputs),
            {
                "source": "output",
                "window_start": latest.start.isoformat(),
                "window_end": latest.end.isoformat(),
                "drifted_features": [f"output:{c.column}" for c in drifted_outputs],
                "outputs": [c.to_dict() for c in drifted_outputs],
                "rows": latest.rows,
            },
        )
    lower = result.lower_is_better
    if ref is not None:
        bound_key = "high" if lower else "low"
        ref_low = result.reference.get(bound_key)
        early: dict[str, Any] | None = result.reference.get("realised_baseline")
        floor = ref_low if ref_low is not None else ref
        if early is not None and early.get(bound_key) is not None:
            floor = max(floor, float(early[bound_key])) if lower else min(floor, float(early[bound_key]))
        limit = floor * (1.0 + cfg.max_drop) if lower else floor - cfg.max_drop
        matured = [w for w in result.windows if w.realised]
        for w in matured[-1:]:  # the newest matured window; earlier ones were newest in earlier runs
            r = w.realised.get(metric) if w.realised else None
            if r is not None and (r.low > limit if lower else r.high < limit):
                add(
                    f"realised:{w.start.isoformat()}",
                    "critical",
                    f"realised {metric} {r.value:.3f} [{r.low:.3f}, {r.high:.3f}] "
                    f"{'above' if lower else 'below'} {limit:.3f} "
                    f"(test {ref:.3f}, interval {bound_key} {ref_low if ref_low is not None else ref:.3f}"
                    + (
                        f"; fresh in production {early['value']:.3f}, {bound_key} {early[bound_key]:.3f}"
                        if early and early.get(bound_key) is not None
                        else ""
                    )
                    + ") "
                    f"in window from {w.start:%Y-%m-%d %H:%M}",
                    {
                        "source": "realised",
                        "metric": metric,
                        **r.to_dict(),
                        "reference": ref,
                        f"reference_{bound_key}": ref_low,
                        "realised_baseline": early,
                        "window_start": w.start.isoformat(),
                        "pooled_from": w.realised_from.isoformat() if w.realised_from else None,
                        "maturity": w.maturity,
                        "labelled": w.labelled,
                    },
                )
    start_level: dict[str, Any] | None = result.reference.get("estimated_baseline")
    e = latest.estimated.get(metric) if latest and latest.estimated else None
    if start_level is not None and latest is not None and e is not None:
        elimit = float(start_level.get("low", start_level["value"])) - cfg.max_drop
        if e.high < elimit:
            add(
                f"estimated:{latest.start.isoformat()}",
                "warning",
                f"estimated {metric} {e.value:.3f} [{e.low:.3f}, {e.high:.3f}] below {elimit:.3f} "
                f"(estimate when the model was fresh: {start_level['value']:.3f}, interval low "
                f"{start_level.get('low', start_level['value']):.3f}) before labels arrive",
                {
                    "source": "estimated",
                    "metric": metric,
                    **e.to_dict(),
                    "reference": start_level["value"],
                    "baseline": start_level,
                    "window_start": latest.start.isoformat(),
                    "pooled_from": latest.estimated_from.isoformat() if latest.estimated_from else None,
                    "rows": latest.rows,
                },
            )
    fresh = [
        (s.detector, a)
        for s in result.stream
        for a in s.drifts
        if a.time is not None and a.time.isoformat() > last_stream
    ]
    if len({d for d, _ in fresh}) >= STREAM_QUORUM:
        when = max(a.time for _, a in fresh if a.time is not None)
        add(
            f"stream:{when.isoformat()}",
            "warning",
            f"error rate rose ({', '.join(sorted({d for d, _ in fresh}))}) by {when:%Y-%m-%d %H:%M}",
            {
                "source": "stream",
                "detected_at": when.isoformat(),
                "alarms": [{"detector": d, **a.to_dict()} for d, a in fresh],
            },
        )
    return events
