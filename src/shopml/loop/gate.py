"""The promotion gate: an absolute floor plus a paired bootstrap of the primary metric's difference.

The metric is the model kind's primary metric (:mod:`shopml.kinds`: PR-AUC for binary, macro-F1 for
multiclass, MAE for regression) and every comparison is direction-aware: the *improvement* is
``challenger - champion`` for a higher-is-better metric and ``champion - challenger`` for a
lower-is-better one. Rule (``mode``, ``margin``, ``level`` from the policy), on the holdout rows
both models score:

* floor: the challenger's metric (point estimate) is at least as good as ``min_metric`` (``>=`` for a
  higher-is-better metric; ``<=`` for a lower-is-better one, where 0 means no bound);
* ``superior``: the one-sided lower confidence bound of the improvement is above 0;
* ``non_inferior``: that lower bound is above ``-margin``.

Promotion needs the floor *and* the comparison. With ``B`` paired resamples the lower bound is the
``1 - level`` quantile of the resampled improvements, so a challenger truly no better than the
champion passes ``superior`` with probability about ``1 - level`` (tested over many seeds).
Resamples are drawn within each class when the kind has a rare positive class (binary: every resample
keeps the holdout's positives), and in whole ``groups`` (e.g. event hours) when given.

First model (no champion): with ``first_model: promote_if_floors`` it is promoted iff it passes the floor;
with ``never`` it stays a challenger until someone promotes it by hand. Too little support in the
holdout (fewer than ``min_positives`` positives, or no negative, for a kind with a rare positive class;
fewer than ``min_positives`` labelled rows otherwise): ``no_decision`` (nothing moves; the trigger may
retry after cooldown).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from jinja2 import Environment

from shopml.errors import ConfigError, DataError
from shopml.kinds import ModelKind, get_kind
from shopml.loop.policy import GatePolicy
from shopml.stats import paired_difference

__all__ = ["GateDecision", "decide", "write_gate_report"]

Verdict = Literal["promote", "reject", "no_decision"]


@dataclass
class GateDecision:
    """A verdict with the numbers, intervals and the rule that produced it."""

    verdict: Verdict
    rule: str
    reasons: list[str]
    challenger_metric: float | None
    champion_metric: float | None
    bootstrap: dict[str, Any] | None
    policy: dict[str, Any]
    holdout: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    challenger_version: int | None = None
    champion_version: int | None = None
    time: str = ""
    request_id: str = ""
    metric: str = "pr_auc"

    @property
    def promote(self) -> bool:
        """True when the verdict is ``promote``."""
        return self.verdict == "promote"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the gate report's JSON)."""
        return asdict(self)


#: How reports name a metric (others are shown by their key).
LABELS = {"pr_auc": "PR-AUC", "macro_f1": "macro-F1", "mae": "MAE", "log_loss": "log-loss"}


def metric_label(metric: str) -> str:
    """The display name of ``metric`` (``pr_auc`` → ``PR-AUC``)."""
    return LABELS.get(metric, metric)


def _floor_ok(kind: ModelKind, value: float, floor: float) -> bool:
    if kind.direction(kind.primary_metric) > 0:
        return value >= floor
    return floor <= 0 or value <= floor  # an error metric: 0 = no bound


def _rule_text(p: GatePolicy, kind: ModelKind, has_champion: bool) -> str:
    m = metric_label(kind.primary_metric)
    higher = kind.direction(kind.primary_metric) > 0
    floor = f"challenger {m} {'>=' if higher else '<='} {p.min_metric:g}"
    if not higher and p.min_metric <= 0:
        floor = f"challenger {m}: no bound"
    if not has_champion:
        return (
            f"first model: {floor}"
            if p.first_model == "promote_if_floors"
            else "first model: never auto-promote"
        )
    diff = f"{m}(challenger) - {m}(champion)" if higher else f"{m}(champion) - {m}(challenger)"
    lb = f"{p.level:.0%} one-sided lower bound of {diff}"
    cmp = "> 0" if p.mode == "superior" else f"> -{p.margin:g}"
    strat = ", stratified" if kind.rare_class else ""
    return f"{floor} AND {lb} {cmp} (paired bootstrap of hour blocks{strat}, B={p.n_resamples})"


def _support(kind: ModelKind, y: np.ndarray) -> tuple[int, str | None]:
    """The rows the metric rests on (a rare class's positives, else every row) and why it is too
    little (``None``: enough is decided by the caller)."""
    if not kind.rare_class:
        return int(y.size), None
    positives = int(np.sum(y == 1))
    return positives, ("no negative" if positives == y.size else None)


def _compare(
    kind: ModelKind,
    y: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    policy: GatePolicy,
    groups: np.ndarray | None,
    weights: np.ndarray | None,
) -> dict[str, Any]:
    """The paired bootstrap of the primary metric, oriented so that a positive difference means "the
    challenger is better"; the models' own values and intervals are in the metric's units."""
    if not (np.shape(champion)[0] == np.shape(challenger)[0] == y.size):
        raise DataError(
            f"labels and predictions differ in length: y={y.size}, champion={np.shape(champion)[0]},"
            f" challenger={np.shape(challenger)[0]}"
        )
    sign = float(kind.direction(kind.primary_metric))
    a, b = kind.weighted_primary(y, champion), kind.weighted_primary(y, challenger)
    for name, pred in (("champion", champion), ("challenger", challenger)):
        if np.isnan(np.asarray(pred, dtype=np.float64)).any():
            raise DataError(f"the {name}'s predictions on the holdout contain NaN")
    d = paired_difference(
        lambda w: sign * np.asarray(a(w)),
        lambda w: sign * np.asarray(b(w)),
        int(y.size),
        n_resamples=policy.n_resamples,
        level=policy.level,
        seed=policy.seed,
        groups=groups,
        strata=y if kind.rare_class else None,  # every resample keeps the holdout's positives
        sample_weight=weights,
        chunk=250,  # the draws of every earlier gate report: the same seed gives the same numbers
    )

    def raw(v: float, lo: float, hi: float) -> tuple[float, tuple[float, float]]:
        ends = sorted((sign * lo, sign * hi))
        return sign * v, (ends[0], ends[1])

    champ, champ_ci = raw(d.a.value, d.a.low, d.a.high)
    chal, chal_ci = raw(d.b.value, d.b.low, d.b.high)
    support, _ = _support(kind, y)
    return {
        "n": int(y.size),
        "positives": support,
        "n_resamples": policy.n_resamples,
        "level": policy.level,
        "champion": champ,
        "challenger": chal,
        "diff": d.diff.value,
        "diff_lower": d.lower,
        "diff_ci": (d.diff.low, d.diff.high),
        "champion_ci": champ_ci,
        "challenger_ci": chal_ci,
        "p_not_better": d.p_not_better,
    }


def decide(
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    policy: GatePolicy,
    groups: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    kind: ModelKind | str = "binary",
) -> GateDecision:
    """Apply the gate to holdout labels ``y`` (as the kind's metrics take them) and both models'
    predictions on the same rows (the kind's served output); ``groups`` (e.g. event hours) makes the
    bootstrap resample whole groups; ``weights`` are per-row sample weights (e.g. label-delay weights
    of positives whose chargebacks are still partly to come)."""
    k = get_kind(kind) if isinstance(kind, str) else kind
    if policy.metric is not None and policy.metric != k.primary_metric:
        raise ConfigError(
            f"gate.metric '{policy.metric}' is not the primary metric of a {k.name} model: the gate"
            f" compares '{k.primary_metric}' (leave gate.metric unset)"
        )
    y = np.asarray(y)
    has_champion = champion is not None
    rule = _rule_text(policy, k, has_champion)
    pd = policy.model_dump()
    support, lacking = _support(k, y)
    if support < policy.min_positives or lacking is not None:
        what = "positives" if k.rare_class else "labelled rows"
        reason = f"holdout has {support} {what} of {y.size} rows; the gate needs >= {policy.min_positives}"
        if lacking is not None:
            reason += f" and a negative ({lacking})"
        return GateDecision("no_decision", rule, [reason], None, None, None, pd, metric=k.primary_metric)
    boot = _compare(
        k, y, champion if champion is not None else challenger, challenger, policy, groups, weights
    )
    m = metric_label(k.primary_metric)
    reasons: list[str] = []
    floor_ok = _floor_ok(k, boot["challenger"], policy.min_metric)
    lo, hi = boot["challenger_ci"]
    reasons.append(
        f"floor {'passed' if floor_ok else 'FAILED'}: challenger {m} {boot['challenger']:.4f}"
        f" (CI {lo:.4f}–{hi:.4f}) vs floor {policy.min_metric:g}"
    )
    if not has_champion:
        ok = floor_ok and policy.first_model == "promote_if_floors"
        if policy.first_model == "never":
            reasons.append("no champion and first_model=never: left as challenger")
        boot_d = {k_: v for k_, v in boot.items() if k_.startswith("challenger") or k_ in ("n", "positives")}
        first: Verdict = "promote" if ok else "reject"
        return GateDecision(
            first, rule, reasons, boot["challenger"], None, boot_d, pd, metric=k.primary_metric
        )
    bound = 0.0 if policy.mode == "superior" else -policy.margin
    cmp_ok = boot["diff_lower"] > bound
    reasons.append(
        f"comparison {'passed' if cmp_ok else 'FAILED'}: difference {boot['diff']:+.4f},"
        f" {policy.level:.0%} lower bound {boot['diff_lower']:+.4f} {'>' if cmp_ok else '<='}"
        f" {bound:+g} ({policy.mode})"
    )
    verdict: Verdict = "promote" if (floor_ok and cmp_ok) else "reject"
    return GateDecision(
        verdict, rule, reasons, boot["challenger"], boot["champion"], boot, pd, metric=k.primary_metric
    )


_TEMPLATE = "gate_report.html"


def write_gate_report(decision: GateDecision, out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``stem.json`` and ``stem.html`` under ``out_dir``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = decision.to_dict()
    json_path, html_path = out_dir / f"{stem}.json", out_dir / f"{stem}.html"
    json_path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    text = resources.files("shopml.loop").joinpath(_TEMPLATE).read_text(encoding="utf-8")
    tpl = Environment(autoescape=True).from_string(text)
    ci = f"{decision.policy.get('level', decision.policy.get('confidence', 0.95)):.0%}"
    label = metric_label(decision.metric)
    html_path.write_text(tpl.render(d=decision, b=decision.bootstrap, ci=ci, label=label), encoding="utf-8")
    return json_path, html_path
