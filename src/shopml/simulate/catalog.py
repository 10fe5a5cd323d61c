"""The fixed facts of the simulated shop: markets, currencies, categories, devices and the calendar.

Amounts are log-normal per category (median in EUR, log-space sigma); a customer's currency is the one
of their home market and transaction amounts are in that currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

__all__ = [
    "CURRENCIES",
    "DEVICES",
    "DEVICE_WEIGHTS",
    "FRAUD_IP",
    "HOUR_PROFILE",
    "IP_COUNTRIES",
    "MARKETS",
    "MERCHANT_CATEGORIES",
    "NEW_CATEGORY",
    "NEW_MARKET",
    "PAYMENT_METHODS",
    "PRODUCT_CATEGORIES",
    "TRAVEL_IP",
    "WEEKDAY_FACTOR",
    "Category",
    "Market",
    "holiday_factor",
    "merchant_index",
    "product_index",
]

PAYMENT_METHODS: tuple[str, ...] = ("card", "paypal", "klarna", "apple_pay", "bank_transfer")
DEVICES: tuple[str, ...] = ("mobile_app", "mobile_web", "desktop", "tablet")
DEVICE_WEIGHTS = np.array([0.40, 0.25, 0.30, 0.05])


@dataclass(frozen=True)
class Market:
    """A country the shop sells in."""

    code: str
    weight: float
    currency: str
    fx: float  # units of local currency per EUR
    tz: int  # fixed UTC offset in hours (no daylight saving)
    payment_weights: tuple[float, ...]  # over PAYMENT_METHODS
    spend: float = 1.0  # basket-size multiplier


MARKETS: tuple[Market, ...] = (
    Market("DE", 0.30, "EUR", 1.0, 1, (0.30, 0.30, 0.20, 0.10, 0.10)),
    Market("FR", 0.20, "EUR", 1.0, 1, (0.55, 0.20, 0.05, 0.15, 0.05)),
    Market("GB", 0.15, "GBP", 0.85, 0, (0.55, 0.20, 0.08, 0.15, 0.02)),
    Market("NL", 0.10, "EUR", 1.0, 1, (0.25, 0.15, 0.15, 0.10, 0.35)),
    Market("ES", 0.10, "EUR", 1.0, 1, (0.55, 0.25, 0.05, 0.10, 0.05)),
    Market("IT", 0.10, "EUR", 1.0, 1, (0.50, 0.30, 0.05, 0.10, 0.05)),
    Market("PL", 0.05, "PLN", 4.3, 1, (0.35, 0.15, 0.05, 0.10, 0.35)),
)
#: The market that opens in the ``sudden_covariate`` scenario (never seen before it).
NEW_MARKET = Market("US", 0.0, "USD", 1.08, -5, (0.65, 0.20, 0.05, 0.10, 0.0), spend=1.35)
CURRENCIES: tuple[str, ...] = ("EUR", "GBP", "PLN", "USD")

#: IP countries: every market, then the rest of the world.
IP_COUNTRIES: tuple[str, ...] = (
    *(m.code for m in MARKETS),
    NEW_MARKET.code,
    *("AT", "CH", "PT", "TR", "TH", "RO", "NG", "BR", "RU", "CN", "IN", "VN", "UA"),
)
_IP = {c: i for i, c in enumerate(IP_COUNTRIES)}


def _ip_weights(spec: Mapping[str, float]) -> np.ndarray:
    w = np.zeros(len(IP_COUNTRIES))
    for code, value in spec.items():
        w[_IP[code]] = value
    return w / w.sum()


#: Where legitimate customers travel (their IP country is then not their home).
TRAVEL_IP = _ip_weights(
    {"DE": 8, "FR": 8, "GB": 6, "NL": 4, "ES": 10, "IT": 8, "PL": 2, "US": 6, "AT": 6, "CH": 5, "PT": 5}
    | {"TR": 4, "TH": 3, "RO": 1, "BR": 1, "IN": 1}
)
#: Where fraudsters connect from (overlapping the travel destinations on purpose).
FRAUD_IP = _ip_weights(
    {"DE": 3, "FR": 2, "GB": 3, "NL": 3, "ES": 1, "IT": 1, "PL": 1, "US": 5, "RO": 6, "NG": 5, "BR": 4}
    | {"RU": 4, "CN": 3, "IN": 3, "VN": 4, "UA": 4, "TR": 3, "TH": 1, "PT": 1}
)


@dataclass(frozen=True)
class Category:
    """A merchant or product category: its share of traffic and its log-normal amount."""

    name: str
    weight: float
    median: float  # EUR
    sigma: float
    gift: float = 1.0  # weight multiplier in a gift-buying season


MERCHANT_CATEGORIES: tuple[Category, ...] = (
    Category("electronics", 0.08, 140.0, 0.9, 1.8),
    Category("fashion", 0.16, 48.0, 0.6, 1.2),
    Category("groceries", 0.14, 38.0, 0.5, 0.8),
    Category("home_garden", 0.08, 62.0, 0.8, 0.9),
    Category("beauty", 0.07, 26.0, 0.5, 1.4),
    Category("digital_goods", 0.09, 9.0, 0.8, 1.0),
    Category("gaming", 0.06, 16.0, 0.9, 1.5),
    Category("travel", 0.04, 260.0, 0.7, 0.6),
    Category("food_delivery", 0.12, 27.0, 0.4, 0.9),
    Category("books_media", 0.06, 17.0, 0.5, 1.3),
    Category("gift_cards", 0.04, 50.0, 0.5, 2.5),
    Category("jewelry", 0.02, 190.0, 0.9, 2.0),
    Category("toys", 0.04, 35.0, 0.6, 2.5),
)
PRODUCT_CATEGORIES: tuple[Category, ...] = (
    Category("clothing", 0.30, 45.0, 0.6, 1.2),
    Category("shoes", 0.14, 80.0, 0.5, 1.1),
    Category("electronics", 0.10, 160.0, 0.9, 1.8),
    Category("home", 0.12, 55.0, 0.8, 0.9),
    Category("beauty", 0.10, 24.0, 0.5, 1.4),
    Category("toys", 0.06, 30.0, 0.6, 2.5),
    Category("sports", 0.08, 50.0, 0.7, 1.0),
    Category("books", 0.06, 16.0, 0.4, 1.3),
    Category("jewelry", 0.02, 150.0, 0.9, 2.0),
    Category("furniture", 0.02, 320.0, 0.7, 0.7),
)
#: The category that appears in the ``new_category`` scenario (in transactions and orders).
NEW_CATEGORY = Category("pet_supplies", 0.0, 32.0, 0.6)


def merchant_index(name: str) -> int:
    """Index of a merchant category in ``MERCHANT_CATEGORIES + (NEW_CATEGORY,)``."""
    return [c.name for c in (*MERCHANT_CATEGORIES, NEW_CATEGORY)].index(name)


def product_index(name: str) -> int:
    """Index of a product category in ``PRODUCT_CATEGORIES + (NEW_CATEGORY,)``."""
    return [c.name for c in (*PRODUCT_CATEGORIES, NEW_CATEGORY)].index(name)


#: Relative traffic per local hour of day (night trough, lunch bump, evening peak).
HOUR_PROFILE = np.array(
    [
        *(0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.7, 1.4, 2.2, 3.0, 3.6, 4.2),
        *(4.8, 4.6, 4.2, 4.0, 4.2, 4.6, 5.2, 6.0, 6.6, 6.2, 4.6, 2.4),
    ]
)
#: Relative traffic per weekday, Monday first (Sunday evening is the busiest time of the week).
WEEKDAY_FACTOR = np.array([0.97, 0.92, 0.94, 0.98, 1.03, 1.08, 1.20])


def _black_friday(year: int) -> date:
    nov1 = date(year, 11, 1)
    first_friday = nov1 + timedelta(days=(4 - nov1.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def holiday_factor(day: date) -> tuple[float, float]:
    """(volume, amount) multipliers of the shop's calendar: Singles' Day, Black Friday, Cyber Monday,
    the Christmas run-up and lull, January sales. Other days are (1, 1).

    >>> holiday_factor(date(2025, 11, 28))
    (1.9, 1.1)
    >>> holiday_factor(date(2025, 3, 4))
    (1.0, 1.0)
    """
    bf = _black_friday(day.year)
    if day == bf:
        return 1.9, 1.1
    if day == bf + timedelta(days=3):
        return 1.6, 1.1
    if bf - timedelta(days=4) <= day < bf or bf < day <= bf + timedelta(days=2):
        return 1.25, 1.05
    if day.month == 11 and day.day == 11:
        return 1.3, 1.0
    if day.month == 12 and 1 <= day.day <= 21:
        return 1.1 + 0.02 * day.day, 1.08
    if day.month == 12 and 24 <= day.day <= 26:
        return 0.7, 1.0
    if day.month == 1 and 2 <= day.day <= 8:
        return 1.15, 0.9
    return 1.0, 1.0
