"""The cost model: what a false alarm and a missed positive cost, per decision, in money.

One model serves the threshold choice at training, the monitor's ``expected_cost`` and every report of
cost: training records it in ``bundle.json`` (``costs``), and the monitor reads it from the bundle it
monitors, so the cost it reports is the cost the threshold was chosen on. A missed positive costs a
fixed ``false_negative``, or, with ``amount_column``, that column's value in the row (the payment's
amount; a missing value falls back to ``false_negative``).

>>> c = Costs(false_positive=5.0, amount_column="amount")
>>> y, flagged = np.array([1, 1, 0, 0]), np.array([True, False, True, False])
>>> c.total(y, flagged, amounts=np.array([20.0, 30.0, 1.0, 1.0]))
35.0
>>> c.expected_cost(y, flagged, amounts=np.array([20.0, 30.0, 1.0, 1.0]))
8.75
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shopml.errors import DataError

__all__ = ["Costs"]


class Costs(BaseModel):
    """False-alarm cost and miss cost (a number, or a per-row column such as ``amount``).

    The defaults are training's (``shopml train`` without a ``costs`` section); a bundle written before
    bundles recorded their costs is monitored with the costs of its training config, else these.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    false_positive: float = Field(5.0, ge=0, description="friction cost of one false alarm")
    false_negative: float = Field(1.0, ge=0, description="cost of one missed positive (no amount column)")
    amount_column: str | None = Field(None, description="a missed positive costs this column's value")

    @classmethod
    def recorded(cls, costs: Costs | None, training_config: Mapping[str, Any] | None = None) -> Costs:
        """The costs a model was tuned on: ``costs`` as its bundle records them; for a bundle written
        before bundles recorded them, the ``costs`` section of its training config (``lineage.config``),
        else the training default (:class:`Costs` ``()``).

        >>> Costs.recorded(None, {"costs": {"false_positive": 2.0, "amount_column": "price"}}).false_positive
        2.0
        """
        if costs is not None:
            return costs
        section = (training_config or {}).get("costs")
        return cls.model_validate(section) if isinstance(section, Mapping) else cls()

    def miss_costs(self, n: int, amounts: np.ndarray | None = None) -> np.ndarray:
        """Cost of missing each of ``n`` rows if it is positive (``amounts`` NaN → ``false_negative``)."""
        if self.amount_column is None or amounts is None:
            if self.amount_column is not None:
                raise DataError(
                    f"costs need column '{self.amount_column}' (the cost of a missed positive), not given"
                )
            return np.full(n, self.false_negative)
        a = np.asarray(amounts, dtype=np.float64).ravel()
        if a.size != n:
            raise DataError(f"column '{self.amount_column}' holds {a.size} values for {n} rows")
        return np.nan_to_num(a, nan=self.false_negative)

    def total(
        self,
        y: np.ndarray,
        decisions: np.ndarray,
        *,
        amounts: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """Total cost of ``decisions`` (True/1 = flagged) against labels ``y``: misses + false alarms."""
        yy = np.asarray(y, dtype=np.float64).ravel()
        d = np.asarray(decisions, dtype=bool).ravel()
        w = np.ones_like(yy) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        missed = (w * yy * ~d * self.miss_costs(yy.size, amounts)).sum()
        return float(missed + self.false_positive * (w * (1 - yy) * d).sum())

    def expected_cost(
        self,
        y: np.ndarray,
        decisions: np.ndarray,
        *,
        amounts: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """Cost per decision: :meth:`total` divided by the (weighted) number of rows."""
        n = float(np.size(y) if sample_weight is None else np.sum(sample_weight))
        total = self.total(y, decisions, amounts=amounts, sample_weight=sample_weight)
        return total / n if n > 0 else float("nan")
