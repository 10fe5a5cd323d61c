"""What each drift scenario does on a given day, and the ground-truth drift log it writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shopml.simulate.catalog import NEW_CATEGORY, NEW_MARKET
from shopml.simulate.params import SimulationParams

__all__ = ["DayEffects", "day_effects", "drift_log"]


@dataclass(frozen=True)
class DayEffects:
    """Multipliers and shares applied to one day by the scenario (the calendar is applied separately)."""

    volume: float = 1.0
    amount: float = 1.0
    gift_mix: float = 0.0  # 0 = normal category mix, 1 = full gift-season mix
    new_category_share: float = 0.0
    new_tactic_share: float = 0.0  # share of account takeovers using the new tactic
    dq_unit_share: float = 0.0  # share of rows whose amount is written in cents
    dq_null_share: float = 0.0  # share of rows whose account_age_days is null


def _window(p: SimulationParams, day: int) -> float:
    """Position in the scenario window: 0 before onset, 0..1 inside, -1 after its end."""
    onset = p.onset or 0
    if day < onset:
        return 0.0
    if p.length is not None and day >= onset + p.length:
        return -1.0
    return (day - onset + 1) / p.length if p.length else 1.0


def day_effects(p: SimulationParams, day: int) -> DayEffects:
    """The scenario's effects on ``day`` (0-based, relative to ``start``)."""
    m = float(p.magnitude or 0.0)
    w = _window(p, day)
    if p.scenario == "seasonal" and w > 0:
        bump = float(np.sin(np.pi * min(w, 1.0)) ** 2)  # smooth rise and fall
        return DayEffects(volume=1 + m * bump, amount=1 + 0.3 * m * bump, gift_mix=bump)
    if p.scenario == "gradual_concept":
        ramp = 1.0 if w < 0 else min(w, 1.0)  # the new tactic stays once adopted
        return DayEffects(new_tactic_share=m * ramp)
    if p.scenario == "new_category" and day >= (p.onset or 0):
        return DayEffects(new_category_share=min(m, 0.9))
    if p.scenario == "data_quality" and w != 0 and w != -1:
        share = min(m, 1.0)
        return DayEffects(dq_unit_share=share) if p.variant == "unit" else DayEffects(dq_null_share=share)
    return DayEffects()


def _iso(p: SimulationParams, day: int | None) -> str | None:
    if day is None:
        return None
    t = datetime.combine(p.start, datetime.min.time(), tzinfo=UTC) + timedelta(days=day)
    return t.isoformat()


def drift_log(p: SimulationParams) -> dict[str, Any]:
    """The ground truth that monitors are scored against (``drift_log.json``)."""
    onset = p.onset or 0
    end = None if p.length is None else min(onset + p.length, p.days)
    m = p.magnitude
    ev: list[dict[str, Any]] = []

    def add(table: str, features: list[str], relationship: str, description: str, **extra: Any) -> None:
        ev.append(
            {
                "start": _iso(p, onset),
                "end": _iso(p, end),
                "table": table,
                "features": features,
                "relationship": relationship,
                "description": description,
                **extra,
            }
        )

    if p.scenario == "sudden_covariate":
        feats = ["country", "ip_country", "currency", "amount", "amount_avg_30d", "account_age_days"]
        feats += ["payment_method", "seconds_since_last_txn"]
        add(
            "transactions",
            feats,
            "P(x)",
            f"market {NEW_MARKET.code} ({NEW_MARKET.currency}) opens: "
            f"~{m:.0%} of traffic from new, young accounts with larger baskets; P(fraud|x) unchanged",
            expected=False,
        )
        add(
            "orders",
            ["shipping_country", "price", "customer_order_count", "customer_return_rate"],
            "P(x)",
            f"orders from the new market {NEW_MARKET.code}",
            expected=False,
        )
    elif p.scenario == "gradual_concept":
        add(
            "transactions",
            ["ip_country", "is_new_device", "merchant_category", "amount"],
            "P(y|x)",
            f"account takeover moves to a new tactic (home IP, known device, gift cards/digital goods) "
            f"in up to {m:.0%} of cases, ramping linearly over the window and staying after it; "
            "input distributions barely move",
            expected=False,
        )
    elif p.scenario == "seasonal":
        add(
            "transactions",
            ["amount", "merchant_category", "volume"],
            "P(x)",
            f"holiday season: volume up to +{m:.0%}, amounts up to +{0.3 * (m or 0):.0%}, gift categories "
            "surge; expected, not a fault",
            expected=True,
        )
        add(
            "orders",
            ["price", "category", "discount", "volume"],
            "P(x)",
            "holiday season in orders",
            expected=True,
        )
    elif p.scenario == "new_category":
        add(
            "transactions",
            ["merchant_category"],
            "P(x)",
            f"new merchant category '{NEW_CATEGORY.name}' takes {m:.0%} of traffic",
            expected=False,
        )
        add("orders", ["category"], "P(x)", f"new product category '{NEW_CATEGORY.name}'", expected=False)
    elif p.scenario == "data_quality":
        if p.variant == "unit":
            add(
                "transactions",
                ["amount"],
                "data_quality",
                f"pipeline bug: amount written in cents (x100) for {min(m or 0, 1):.0%} of rows",
                expected=False,
                kind="unit_change",
            )
        else:
            add(
                "transactions",
                ["account_age_days"],
                "data_quality",
                f"pipeline bug: account_age_days null in {min(m or 0, 1):.0%} of rows",
                expected=False,
                kind="null_spike",
            )
    params = p.model_dump(mode="json")
    return {"scenario": p.scenario, "events": ev, "params": params}
