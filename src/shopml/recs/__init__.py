"""Session-based recommendations: the evaluation protocol, baselines, the GRU recommender and its
training (``shopml train --task recs``)."""

from typing import TYPE_CHECKING

from shopml._lazy import lazy_exports

if TYPE_CHECKING:
    from shopml.recs.baselines import VSKNN, ItemKNN, Popularity, SequentialRules, SessionPopularity
    from shopml.recs.data import Sessions, Split, load_events, prepare, split_sessions
    from shopml.recs.evaluate import Evaluation, evaluate

__all__ = [
    "VSKNN",
    "Evaluation",
    "ItemKNN",
    "Popularity",
    "SequentialRules",
    "SessionPopularity",
    "Sessions",
    "Split",
    "evaluate",
    "load_events",
    "prepare",
    "split_sessions",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "VSKNN": "shopml.recs.baselines",
        "ItemKNN": "shopml.recs.baselines",
        "Popularity": "shopml.recs.baselines",
        "SequentialRules": "shopml.recs.baselines",
        "SessionPopularity": "shopml.recs.baselines",
        "Sessions": "shopml.recs.data",
        "Split": "shopml.recs.data",
        "load_events": "shopml.recs.data",
        "prepare": "shopml.recs.data",
        "split_sessions": "shopml.recs.data",
        "Evaluation": "shopml.recs.evaluate",
        "evaluate": "shopml.recs.evaluate",
    },
)
