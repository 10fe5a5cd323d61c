"""The seeded e-commerce world: transactions with fraud, orders with returns, delayed label feeds and
drift scenarios with a ground-truth drift log (see ``shopml simulate --help``).

>>> sorted(SCENARIOS)[:2]
['data_quality', 'gradual_concept']
"""

from typing import TYPE_CHECKING

from shopml._lazy import lazy_exports
from shopml.simulate.names import SCENARIOS

if TYPE_CHECKING:
    from shopml.simulate.engine import SimulationResult, simulate
    from shopml.simulate.manifest import TABLES, feature_schema
    from shopml.simulate.params import SimulationParams

__all__ = ["SCENARIOS", "TABLES", "SimulationParams", "SimulationResult", "feature_schema", "simulate"]

__getattr__ = lazy_exports(
    __name__,
    {
        "SimulationResult": "shopml.simulate.engine",
        "simulate": "shopml.simulate.engine",
        "TABLES": "shopml.simulate.manifest",
        "feature_schema": "shopml.simulate.manifest",
        "SimulationParams": "shopml.simulate.params",
    },
)
