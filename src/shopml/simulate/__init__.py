"""The seeded e-commerce world: transactions with fraud, orders with returns, delayed label feeds and
drift scenarios with a ground-truth drift log (see ``shopml simulate --help``).

>>> sorted(SCENARIOS)[:2]
['data_quality', 'gradual_concept']
"""

from shopml.simulate.engine import SimulationResult, simulate
from shopml.simulate.manifest import TABLES, feature_schema
from shopml.simulate.params import SCENARIOS, SimulationParams

__all__ = ["SCENARIOS", "TABLES", "SimulationParams", "SimulationResult", "feature_schema", "simulate"]
