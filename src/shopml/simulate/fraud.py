"""Fraud patterns: card-testing bursts, account takeovers (old and new tactic) and friendly fraud.

Each pattern leaves a different, partly ambiguous footprint; none sets a feature that equals the label:
- card testing: throwaway accounts fire bursts of tiny payments at digital merchants (legit new accounts
  buy small digital goods too, and legit sessions come in bursts);
- account takeover: an established account on a new device, often from abroad, buys high-value goods
  (legit customers travel, change devices and buy electronics); the *new tactic* (gradual_concept) uses
  the victim's own device and country and drains the account in a quick run of gift-card/digital
  purchases at a few times its usual spend: a region the old tactic never visited (the first model
  scores it as legit) that a model trained on its labels can learn;
- friendly fraud: a legit purchase later disputed by its owner; only weakly tied to the features.
"""

from __future__ import annotations

import numpy as np

from shopml.simulate.catalog import (
    DEVICES,
    FRAUD_IP,
    MARKETS,
    MERCHANT_CATEGORIES,
    PAYMENT_METHODS,
    merchant_index,
)
from shopml.simulate.legit import DAY_S, Batch, local_times_ms, merchant_amounts
from shopml.simulate.world import Population

__all__ = ["PATTERNS", "SHARES", "account_takeover", "card_testing", "friendly_fraud"]

PATTERNS: tuple[str, ...] = ("none", "card_testing", "account_takeover", "friendly_fraud")
#: Share of fraudulent transactions per pattern, and mean transactions per incident.
SHARES = {"card_testing": (0.30, 4.0), "account_takeover": (0.35, 1.8), "friendly_fraud": (0.35, 1.0)}
_DAY_MS = DAY_S * 1000
#: The new takeover tactic: mean minutes between its purchases (in ms) and its spend per purchase as a
#: multiple of the victim's usual spend.
_NEW_GAP_MS = 120_000.0
_NEW_SPEND = 5.0


def _pick(rng: np.random.Generator, names: dict[str, float], n: int) -> np.ndarray:
    idx = np.array([merchant_index(k) for k in names], np.int16)
    w = np.array(list(names.values()))
    return idx[rng.choice(len(idx), size=n, p=w / w.sum())]


def _bursts(
    rng: np.random.Generator, sizes: np.ndarray, start: np.ndarray, gap_ms: float | np.ndarray
) -> np.ndarray:
    """Event times of bursts: each burst starts at ``start`` and continues with exponential gaps (mean
    ``gap_ms``, one value or one per event)."""
    owner = np.repeat(np.arange(len(sizes)), sizes)
    gaps = rng.exponential(gap_ms, len(owner))
    first = np.cumsum(sizes) - sizes
    gaps[first] = 0.0
    cum = np.cumsum(gaps)
    t = start[owner] + (cum - cum[first][owner]).astype(np.int64)
    return np.minimum(t, _DAY_MS - 1)


def card_testing(rng: np.random.Generator, n_bursts: int, first_guest: int) -> Batch:
    """Bursts of tiny payments, each from a fresh throwaway account ``first_guest + i``."""
    sizes = 2 + rng.poisson(2.0, n_bursts)
    owner = np.repeat(np.arange(n_bursts), sizes)
    n = len(owner)
    weights = np.array([m.weight for m in MARKETS])
    market = rng.choice(len(MARKETS), size=n_bursts, p=weights / weights.sum()).astype(np.int8)
    fx = np.array([m.fx for m in MARKETS])[market]
    start = local_times_ms(rng, np.zeros(n_bursts), flat=True)
    t = _bursts(rng, sizes, start, 40_000.0)
    age = rng.exponential(0.4, n_bursts)[owner] + (t - start[owner]) / _DAY_MS
    ip = np.where(rng.random(n_bursts) < 0.45, market, rng.choice(len(FRAUD_IP), n_bursts, p=FRAUD_IP))
    device = rng.choice(len(DEVICES), size=n_bursts, p=[0.1, 0.35, 0.5, 0.05]).astype(np.int8)
    merchant = _pick(
        rng, {"digital_goods": 0.55, "gaming": 0.25, "food_delivery": 0.1, "books_media": 0.1}, n
    )
    amount = np.maximum(np.round(rng.lognormal(np.log(2.0), 0.8, n) * fx[owner], 2), 0.5)
    return {
        "cust": (first_guest + owner).astype(np.int64),
        "t_ms": t,
        "amount": amount,
        "market": market[owner],
        "merchant": merchant,
        "ip": ip[owner].astype(np.int16),
        "device": device[owner],
        "new_device": (rng.random(n_bursts) < 0.8)[owner],
        "payment": np.full(n, PAYMENT_METHODS.index("card"), np.int8),
        "age": age,
        "pattern": np.full(n, PATTERNS.index("card_testing"), np.int8),
    }


def account_takeover(
    rng: np.random.Generator,
    pop: Population,
    cumw: np.ndarray,
    n_incidents: int,
    day: int,
    new_tactic_share: float,
    amount_mult: float,
) -> Batch:
    """Takeovers of established accounts (at least 60 days old), 1-4 purchases each."""
    draws = np.searchsorted(cumw, rng.random((n_incidents, 4)) * cumw[-1], "right")
    ok = (day - pop.signup_day[draws]) > 60
    victim = draws[np.arange(n_incidents), np.argmax(ok, axis=1)].astype(np.int64)
    sizes = 1 + np.minimum(rng.poisson(0.8, n_incidents), 3)
    new_tactic = rng.random(n_incidents) < new_tactic_share
    sizes = sizes + new_tactic  # the new tactic's runs are one purchase longer (2-5)
    owner = np.repeat(np.arange(n_incidents), sizes)
    cust = victim[owner]
    n = len(owner)
    start = np.where(
        new_tactic, local_times_ms(rng, pop.tz[victim]), local_times_ms(rng, pop.tz[victim], flat=True)
    )
    nt = new_tactic[owner]
    t = _bursts(rng, sizes, start, np.where(nt, _NEW_GAP_MS, 600_000.0))
    old_mix = {"electronics": 0.5, "jewelry": 0.15, "gift_cards": 0.2, "travel": 0.15}
    new_mix = {"gift_cards": 0.6, "digital_goods": 0.3, "electronics": 0.1}
    merchant = np.where(nt, _pick(rng, new_mix, n), _pick(rng, old_mix, n))
    scale = pop.fx[cust] * np.where(nt, pop.spend[cust] * _NEW_SPEND, 1.8 * np.sqrt(pop.spend[cust]))
    amount = merchant_amounts(rng, merchant, scale, amount_mult)
    home = pop.market[victim].astype(np.int16)
    abroad = rng.random(n_incidents) < 0.6
    ip = np.where(abroad & ~new_tactic, rng.choice(len(FRAUD_IP), n_incidents, p=FRAUD_IP), home)
    known = new_tactic | (rng.random(n_incidents) < 0.15)
    device = np.where(
        known, pop.device[victim], rng.choice(len(DEVICES), n_incidents, p=[0.15, 0.35, 0.45, 0.05])
    )
    new_device = np.where(new_tactic, rng.random(n_incidents) < 0.03, ~known)
    stored = rng.random(n_incidents) < 0.6
    payment = np.where(stored, pop.payment[victim], rng.choice(2, n_incidents))  # else card or paypal
    return {
        "cust": cust,
        "t_ms": t,
        "amount": amount,
        "market": pop.market[cust],
        "merchant": merchant.astype(np.int16),
        "ip": ip[owner].astype(np.int16),
        "device": device[owner].astype(np.int8),
        "new_device": new_device[owner],
        "payment": payment[owner].astype(np.int8),
        "age": np.maximum(day + t / _DAY_MS - pop.signup_day[cust], 0.0),
        "pattern": np.full(n, PATTERNS.index("account_takeover"), np.int8),
    }


_FF_MERCHANT = {"digital_goods": 2.5, "gaming": 2.0, "fashion": 1.3, "electronics": 1.5, "travel": 1.2}
_FF_PAYMENT = np.array([1.3, 1.0, 1.2, 1.0, 0.3])


def friendly_fraud(rng: np.random.Generator, batch: Batch, expected: float) -> None:
    """Mark about ``expected`` legit rows as friendly fraud (later disputed by their owner), in place."""
    legit = np.flatnonzero(batch["pattern"] == 0)
    if expected <= 0 or len(legit) == 0:
        return
    mw = np.full(len(MERCHANT_CATEGORIES) + 1, 0.8)
    for name, w in _FF_MERCHANT.items():
        mw[merchant_index(name)] = w
    mw[merchant_index("groceries")] = 0.3
    mw[merchant_index("food_delivery")] = 0.5
    merchant = batch["merchant"][legit]
    w = mw[merchant] * np.power(batch["amount"][legit], 0.2) * _FF_PAYMENT[batch["payment"][legit]]
    w = w * np.where(batch["age"][legit] < 90, 1.4, 1.0)
    p = np.minimum(expected * w / w.sum(), 0.5)
    hit = legit[rng.random(len(legit)) < p]
    batch["pattern"][hit] = PATTERNS.index("friendly_fraud")
