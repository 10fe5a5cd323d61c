"""The cost model: fixed and per-row miss costs, totals and per-decision cost, config round trip."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from shopml.errors import DataError
from shopml.stats import Costs


def test_fixed_and_per_row_miss_costs() -> None:
    y = np.array([1, 1, 0, 0, 1])
    flagged = np.array([1, 0, 1, 0, 0], dtype=bool)
    fixed = Costs(false_positive=2.0, false_negative=10.0)
    assert fixed.total(y, flagged) == 2 * 10.0 + 2.0
    per_row = Costs(false_positive=2.0, false_negative=7.0, amount_column="amount")
    amounts = np.array([5.0, 30.0, 1.0, 1.0, np.nan])  # a missing amount costs false_negative
    assert per_row.total(y, flagged, amounts=amounts) == 30.0 + 7.0 + 2.0
    assert per_row.expected_cost(y, flagged, amounts=amounts) == pytest.approx(39.0 / 5)
    w = np.array([1.0, 2.0, 1.0, 1.0, 0.0])
    assert per_row.expected_cost(y, flagged, amounts=amounts, sample_weight=w) == pytest.approx(62.0 / 5)


def test_errors_name_the_column_and_the_key() -> None:
    c = Costs(amount_column="amount")
    with pytest.raises(DataError, match="column 'amount'"):
        c.miss_costs(3)
    with pytest.raises(DataError, match="'amount' holds 2 values for 3 rows"):
        c.miss_costs(3, np.array([1.0, 2.0]))
    with pytest.raises(ValidationError, match="false_positive"):
        Costs(false_positive=-1)
    with pytest.raises(ValidationError, match="false_alarm"):
        Costs.model_validate({"false_alarm": 1})


def test_json_round_trip() -> None:
    c = Costs(false_positive=5.0, amount_column="amount")
    assert Costs.model_validate_json(c.model_dump_json()) == c
    assert c.model_dump() == {"false_positive": 5.0, "false_negative": 1.0, "amount_column": "amount"}
