"""The promotion gate: absolute floors plus a paired bootstrap of the PR-AUC difference.

Rule (``mode``, ``margin``, ``level`` from the policy), on the holdout rows both models score:

* floor: the challenger's PR-AUC (point estimate) is at least ``min_metric``;
* ``superior``: the one-sided lower confidence bound of ``challenger - champion`` is above 0;
* ``non_inferior``: that lower bound is above ``-margin``.

Promotion needs the floor *and* the comparison. With ``B`` paired resamples the lower bound is the
``1 - level`` quantile of the resampled differences, so a challenger truly no better than the champion
passes ``superior`` with probability about ``1 - level`` (tested over many seeds).

First model (no champion): with ``first_model: promote_if_floors`` it is promoted iff it passes the floor;
with ``never`` it stays a challenger until someone promotes it by hand. Fewer than ``min_positives``
positives in the holdout: ``no_decision`` (nothing moves; the trigger may retry after cooldown).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from jinja2 import Environment

from shopml.loop.bootstrap import PairedBootstrap, paired_bootstrap
from shopml.loop.policy import GatePolicy

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

    @property
    def promote(self) -> bool:
        """True when the verdict is ``promote``."""
        return self.verdict == "promote"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the gate report's JSON)."""
        return asdict(self)


def _rule_text(p: GatePolicy, has_champion: bool) -> str:
    floor = f"challenger PR-AUC >= {p.min_metric:g}"
    if not has_champion:
        return (
            f"first model: {floor}"
            if p.first_model == "promote_if_floors"
            else "first model: never auto-promote"
        )
    lb = f"{p.level:.0%} one-sided lower bound of PR-AUC(challenger) - PR-AUC(champion)"
    cmp = "> 0" if p.mode == "superior" else f"> -{p.margin:g}"
    return f"{floor} AND {lb} {cmp} (paired bootstrap of hour blocks, stratified, B={p.n_resamples})"


def decide(
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    policy: GatePolicy,
    groups: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> GateDecision:
    """Apply the gate to holdout labels ``y`` and both models' scores on the same rows; ``groups``
    (e.g. event hours) makes the bootstrap resample whole groups; ``weights`` are per-row sample weights
    (e.g. label-delay weights of positives whose chargebacks are still partly to come)."""
    y = np.asarray(y).astype(np.int8)
    has_champion = champion is not None
    rule = _rule_text(policy, has_champion)
    pd = policy.model_dump()
    positives = int(y.sum())
    if positives < policy.min_positives or positives == y.size:
        reason = (
            f"holdout has {positives} positives of {y.size} rows; the gate needs >= {policy.min_positives}"
        )
        return GateDecision("no_decision", rule, [reason], None, None, None, pd)
    boot: PairedBootstrap = paired_bootstrap(
        y,
        champion if champion is not None else challenger,
        challenger,
        n_resamples=policy.n_resamples,
        level=policy.level,
        seed=policy.seed,
        groups=groups,
        sample_weight=weights,
    )
    reasons: list[str] = []
    floor_ok = boot.challenger >= policy.min_metric
    reasons.append(
        f"floor {'passed' if floor_ok else 'FAILED'}: challenger PR-AUC {boot.challenger:.4f}"
        f" (CI {boot.challenger_ci[0]:.4f}–{boot.challenger_ci[1]:.4f}) vs floor {policy.min_metric:g}"
    )
    if not has_champion:
        ok = floor_ok and policy.first_model == "promote_if_floors"
        if policy.first_model == "never":
            reasons.append("no champion and first_model=never: left as challenger")
        boot_d = {
            k: v for k, v in boot.to_dict().items() if k.startswith("challenger") or k in ("n", "positives")
        }
        return GateDecision("promote" if ok else "reject", rule, reasons, boot.challenger, None, boot_d, pd)
    bound = 0.0 if policy.mode == "superior" else -policy.margin
    cmp_ok = boot.diff_lower > bound
    reasons.append(
        f"comparison {'passed' if cmp_ok else 'FAILED'}: difference {boot.diff:+.4f}, {policy.level:.0%}"
        f" lower bound {boot.diff_lower:+.4f} {'>' if cmp_ok else '<='} {bound:+g} ({policy.mode})"
    )
    verdict: Verdict = "promote" if (floor_ok and cmp_ok) else "reject"
    return GateDecision(verdict, rule, reasons, boot.challenger, boot.champion, boot.to_dict(), pd)


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
    html_path.write_text(tpl.render(d=decision, b=decision.bootstrap, ci=ci), encoding="utf-8")
    return json_path, html_path
