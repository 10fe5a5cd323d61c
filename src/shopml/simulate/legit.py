"""Legitimate customer behaviour for one day: who buys, when, where, what and for how much."""

from __future__ import annotations

import numpy as np

from shopml.simulate.catalog import (
    DEVICE_WEIGHTS,
    HOUR_PROFILE,
    MERCHANT_CATEGORIES,
    NEW_CATEGORY,
    PAYMENT_METHODS,
    TRAVEL_IP,
)
from shopml.simulate.fastops import inverse_cdf, sorted_uniforms
from shopml.simulate.scenarios import DayEffects
from shopml.simulate.world import Population

__all__ = [
    "DAY_S",
    "Batch",
    "concat",
    "legit_day",
    "local_times_ms",
    "merchant_amounts",
    "merchant_mix",
    "take",
]

Batch = dict[str, np.ndarray]
DAY_S = 86_400
_HOUR_CDF = np.cumsum(HOUR_PROFILE) / HOUR_PROFILE.sum()
_M_MEDIAN = np.log([c.median for c in (*MERCHANT_CATEGORIES, NEW_CATEGORY)])
_M_SIGMA = np.array([c.sigma for c in (*MERCHANT_CATEGORIES, NEW_CATEGORY)])
_M_GIFT_CARDS = [c.name for c in MERCHANT_CATEGORIES].index("gift_cards")
_PAY_GLOBAL = np.array([0.45, 0.22, 0.1, 0.12, 0.11])
TRAVEL_P = 0.03
FAVOURITE_CATEGORY_P = 0.35


def local_times_ms(rng: np.random.Generator, tz: np.ndarray, flat: bool = False) -> np.ndarray:
    """Milliseconds into the UTC day for events whose local hour follows the daily profile
    (``flat``: any hour alike). Local evenings past midnight UTC wrap into the same UTC day."""
    n = len(tz)
    hour = rng.integers(0, 24, n) if flat else inverse_cdf(_HOUR_CDF, rng.random(n))
    local_s = hour * 3600.0 + rng.random(n) * 3600.0
    return (np.mod(local_s - tz * 3600.0, DAY_S) * 1000.0).astype(np.int64)


def merchant_mix(eff: DayEffects) -> np.ndarray:
    """Category probabilities of the day (gift season and a new category shift them)."""
    w = np.array([c.weight * (1 + eff.gift_mix * (c.gift - 1)) for c in MERCHANT_CATEGORIES])
    w = np.append(w / w.sum() * (1 - eff.new_category_share), eff.new_category_share)
    return w


def merchant_amounts(
    rng: np.random.Generator, merchant: np.ndarray, scale: np.ndarray, uplift: float = 1.0
) -> np.ndarray:
    """Log-normal amounts per category times ``scale`` (spend x fx x season), rounded to cents."""
    a = np.exp(_M_MEDIAN[merchant] + _M_SIGMA[merchant] * rng.standard_normal(len(merchant)))
    a = a * scale * uplift
    gift = merchant == _M_GIFT_CARDS
    a[gift] = np.maximum(5.0, np.round(a[gift] / 5.0) * 5.0)  # gift cards come in round values
    return np.maximum(np.round(a, 2), 0.5)


def legit_day(
    rng: np.random.Generator,
    pop: Population,
    cumw: np.ndarray,
    n: int,
    day: int,
    eff: DayEffects,
    amount_mult: float,
    light: bool = False,
) -> Batch:
    """``n`` first purchases of the day plus follow-up purchases in the same session.

    ``light`` returns only what the history needs (warm-up days): customer, time, amount.
    """
    # sorted draws make the look-up cache-friendly; times are drawn independently afterwards
    cust = np.searchsorted(cumw, sorted_uniforms(rng, n) * cumw[-1], "right").astype(np.int64)
    t = local_times_ms(rng, pop.tz[cust])
    follow = (rng.random(n) < 0.12).astype(np.int64) + (rng.random(n) < 0.04)
    src = np.repeat(np.arange(n), follow)
    rank = np.arange(len(src)) - np.repeat(np.cumsum(follow) - follow, follow) + 1
    t_follow = t[src] + (rank * rng.exponential(240_000.0, len(src))).astype(np.int64)
    cust = np.concatenate([cust, cust[src]])
    t = np.minimum(np.concatenate([t, t_follow]), DAY_S * 1000 - 1)
    m = len(cust)
    mix = merchant_mix(eff)
    merchant = inverse_cdf(np.cumsum(mix) / mix.sum(), rng.random(m)).astype(np.int16)
    fav = (rng.random(m) < FAVOURITE_CATEGORY_P) & (merchant < len(MERCHANT_CATEGORIES))
    merchant[fav] = pop.fav_merchant[cust[fav]]
    amount = merchant_amounts(rng, merchant, pop.spend[cust] * pop.fx[cust], amount_mult)
    out: Batch = {"cust": cust, "t_ms": t, "amount": amount}
    if light:
        return out
    age = np.maximum(day + t / (DAY_S * 1000.0) - pop.signup_day[cust], 0.0)
    # a session keeps its device, IP and payment method: draw them for the first purchases, then copy
    ip = pop.market[cust[:n]].astype(np.int16)
    travel = rng.random(n) < TRAVEL_P
    ip[travel] = rng.choice(len(TRAVEL_IP), size=int(travel.sum()), p=TRAVEL_IP)
    device = pop.device[cust[:n]].copy()
    other = rng.random(n) > 0.85
    device[other] = rng.choice(len(DEVICE_WEIGHTS), size=int(other.sum()), p=DEVICE_WEIGHTS)
    new_device = rng.random(n) < 0.02 + 0.35 * np.exp(-age[:n] / 3.0) + 0.03 * other
    payment = pop.payment[cust[:n]].copy()
    switch = rng.random(n) > 0.8
    payment[switch] = rng.choice(len(PAYMENT_METHODS), size=int(switch.sum()), p=_PAY_GLOBAL)
    out.update(
        market=pop.market[cust],
        merchant=merchant,
        ip=np.concatenate([ip, ip[src]]),
        device=np.concatenate([device, device[src]]),
        new_device=np.concatenate([new_device, np.zeros(len(src), bool)]),
        payment=np.concatenate([payment, payment[src]]),
        age=age,
        pattern=np.zeros(m, np.int8),
    )
    return out


def concat(batches: list[Batch]) -> Batch:
    """Row-wise concatenation of batches with the same keys."""
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def take(batch: Batch, index: np.ndarray) -> Batch:
    """Rows ``index`` of a batch."""
    return {k: v[index] for k, v in batch.items()}
