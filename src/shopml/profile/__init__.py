"""Reference profiles and their mergeable sketches: written beside the bundle at training, read by monitor.

:mod:`shopml.profile.sketch` holds the per-column sketches (relative-error numeric buckets, categorical
counts); :mod:`shopml.profile.reference` holds :class:`Profile`, one sketch per model input plus the score.
"""

from __future__ import annotations

from shopml.profile.reference import SCORE_COLUMN, Profile, build_profile, numeric_column
from shopml.profile.sketch import CategoricalSketch, NumericSketch, sketch_from_dict

__all__ = [
    "SCORE_COLUMN",
    "CategoricalSketch",
    "NumericSketch",
    "Profile",
    "build_profile",
    "numeric_column",
    "sketch_from_dict",
]
