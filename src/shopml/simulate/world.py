"""The customer population: home market, account age, habits and latent traits (one array per trait)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopml.errors import DataError
from shopml.simulate.catalog import (
    DEVICE_WEIGHTS,
    MARKETS,
    MERCHANT_CATEGORIES,
    NEW_MARKET,
    PAYMENT_METHODS,
    PRODUCT_CATEGORIES,
)
from shopml.simulate.params import SimulationParams

__all__ = ["ALL_MARKETS", "MEAN_LIFETIME_DAYS", "ActiveWeights", "Population", "build_population"]

ALL_MARKETS = (*MARKETS, NEW_MARKET)
#: Mean customer lifetime (sign-up to churn), exponential: the active population's account age is then
#: exponential with this mean too (median ~440 days), the same on every day.
MEAN_LIFETIME_DAYS = 640.0


@dataclass
class Population:
    """Customers ``0..n-1``; the new market's customers (if any) are the last ``n_new``.

    A customer transacts from ``signup_day`` until ``churn_day`` (days relative to the start).
    """

    market: np.ndarray  # int8 index into ALL_MARKETS
    signup_day: np.ndarray  # float days relative to start (negative: before)
    churn_day: np.ndarray  # float days relative to start; inf: never within the run
    activity: np.ndarray  # relative purchase frequency (mean ~1 in the base population)
    spend: np.ndarray  # basket-size multiplier
    device: np.ndarray  # favourite device index
    payment: np.ndarray  # favourite payment method index
    fav_merchant: np.ndarray  # favourite merchant category index
    fav_product: np.ndarray  # favourite product category index
    return_propensity: np.ndarray  # latent, logit scale
    size_consistency: np.ndarray  # latent: how well the customer picks sizes
    fx: np.ndarray = field(init=False)  # local currency units per EUR
    tz: np.ndarray = field(init=False)  # fixed UTC offset in hours

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.market)

    def __post_init__(self) -> None:
        self.fx = np.array([m.fx for m in ALL_MARKETS])[self.market]
        self.tz = np.array([m.tz for m in ALL_MARKETS])[self.market]

    def active_weight(self, day: int) -> np.ndarray:
        """Purchase weight of each customer on ``day``: activity if signed up by its end and not churned
        before its start, else 0."""
        return self.activity * ((self.signup_day < day + 1) & (self.churn_day > day))


class ActiveWeights:
    """``Population.active_weight(day)`` for increasing days, updated in place from the day's sign-ups and
    churns instead of recomputed over every customer (the same values)."""

    def __init__(self, pop: Population, day: int) -> None:
        self.pop, self.day = pop, day
        self.weights = pop.active_weight(day)
        first = np.floor(pop.signup_day)  # active on the days [first, end)
        end = np.ceil(pop.churn_day)
        self._join = np.argsort(first, kind="stable")
        self._join_day = first[self._join]
        self._leave = np.argsort(end, kind="stable")
        self._leave_day = end[self._leave]

    def at(self, day: int) -> np.ndarray:
        """The weights of ``day`` (a view that the next call updates). Raises DataError for a past day."""
        if day < self.day:
            raise DataError(f"active weights: day {day} requested after day {self.day}")
        if day > self.day:
            span = np.searchsorted(self._join_day, [self.day, day], "right")
            joined = self._join[span[0] : span[1]]
            self.weights[joined] = self.pop.activity[joined]
            span = np.searchsorted(self._leave_day, [self.day, day], "right")
            self.weights[self._leave[span[0] : span[1]]] = 0.0
            self.day = day
        return self.weights


def _payment_by_market(rng: np.random.Generator, market: np.ndarray) -> np.ndarray:
    out = np.empty(len(market), np.int8)
    for i, m in enumerate(ALL_MARKETS):
        idx = np.flatnonzero(market == i)
        w = np.asarray(m.payment_weights)
        out[idx] = rng.choice(len(PAYMENT_METHODS), size=len(idx), p=w / w.sum())
    return out


def build_population(p: SimulationParams, rng: np.random.Generator) -> Population:
    """Draw the base customers and, for ``sudden_covariate``, the new market's customers.

    The base population is stationary (an M/M/inf queue in equilibrium): ``p.customers`` accounts are
    active when the warm-up starts, with exponential ages and remaining lifetimes; new customers sign up
    at a steady rate (``customers / MEAN_LIFETIME_DAYS`` a day) and each churns after an exponential
    lifetime, so the number of active accounts and their age distribution do not drift.
    """
    k0 = p.customers
    t0 = -float(p.warmup_days)
    n_join = int(rng.poisson(k0 * (p.days - t0) / MEAN_LIFETIME_DAYS))
    k = k0 + n_join
    weights = np.array([m.weight for m in MARKETS])
    market = rng.choice(len(MARKETS), size=k, p=weights / weights.sum()).astype(np.int8)
    signup = np.concatenate(
        [t0 - rng.exponential(MEAN_LIFETIME_DAYS, k0), np.sort(rng.uniform(t0, p.days, n_join))]
    )
    churn = np.maximum(signup, t0) + rng.exponential(MEAN_LIFETIME_DAYS, k)
    activity = rng.gamma(0.8, 1 / 0.8, size=k)
    spend = rng.lognormal(0.0, 0.35, size=k) * np.array([m.spend for m in MARKETS])[market]
    if p.scenario == "sudden_covariate":
        m = float(p.magnitude or 0.0)
        n_new = round(k * min(m, 0.9) / (1 - min(m, 0.9)))
        onset = float(p.onset or 0)
        market = np.concatenate([market, np.full(n_new, len(MARKETS), np.int8)])
        # a launch: sign-ups pile up in the first days after the onset
        signup = np.concatenate([signup, onset + np.minimum(rng.exponential(2.0, n_new), 20.0)])
        churn = np.concatenate([churn, np.full(n_new, np.inf)])  # a launch cohort, all still active
        activity = np.concatenate([activity, rng.gamma(0.8, 1 / 0.8, size=n_new)])
        spend = np.concatenate([spend, rng.lognormal(0.0, 0.35, size=n_new) * NEW_MARKET.spend])
    n = len(market)
    return Population(
        market=market,
        signup_day=signup,
        churn_day=churn,
        activity=activity,
        spend=spend,
        device=rng.choice(len(DEVICE_WEIGHTS), size=n, p=DEVICE_WEIGHTS).astype(np.int8),
        payment=_payment_by_market(rng, market),
        fav_merchant=_weighted(rng, [c.weight for c in MERCHANT_CATEGORIES], n),
        fav_product=_weighted(rng, [c.weight for c in PRODUCT_CATEGORIES], n),
        return_propensity=rng.normal(0.0, 0.9, size=n),
        size_consistency=rng.normal(0.0, 1.0, size=n),
    )


def _weighted(rng: np.random.Generator, weights: list[float], n: int) -> np.ndarray:
    w = np.asarray(weights)
    return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int8)
