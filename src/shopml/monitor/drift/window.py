"""Data drift of one prediction-log window against the model's reference profile.

Small windows go to :func:`shopml.monitor.compare` as an Arrow table (exact tests); larger ones are
streamed from DuckDB in batches, profiled and merged, so memory stays bounded whatever the window size.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from shopml.logstore import PredictionLog
from shopml.monitor.cache import cached_profile
from shopml.monitor.drift.compare import compare
from shopml.monitor.drift.config import DriftConfig
from shopml.monitor.drift.report import DriftReport
from shopml.profile.reference import SCORE_COLUMN, Profile, build_profile
from shopml.registry import ModelBundle
from shopml.schema import Schema

__all__ = ["window_drift"]


def _current(
    log: PredictionLog, schema: Schema, start: datetime, end: datetime, cfg: DriftConfig
) -> pa.Table | Profile:
    present = [f.name for f in schema.input_features if f.name in log.columns]
    wanted = [*present, *([SCORE_COLUMN] if SCORE_COLUMN in log.columns else [])]
    if log.count(start, end) <= cfg.exact_max_rows:
        return log.read(start, end, wanted)
    sub = Schema(features=tuple(f for f in schema.input_features if f.name in present))
    sample = cfg.multivariate_rows if cfg.multivariate else 0
    seeds = np.random.SeedSequence(cfg.seed + 1)
    merged: Profile | None = None
    for batch in log.batches(start, end, wanted, batch_size=cfg.batch_rows):
        part = build_profile(pa.Table.from_batches([batch]), sub, sample_size=sample, seed=seeds.spawn(1)[0])
        merged = part if merged is None else merged.merge(part)
    return merged if merged is not None else log.read(start, end, wanted)


def window_drift(
    log: PredictionLog, bundle: ModelBundle, start: datetime, end: datetime, config: DriftConfig | None = None
) -> tuple[DriftReport | None, str | None]:
    """The drift report of ``[start, end)`` (or ``None``) and a note saying why there is none."""
    if not bundle.profile_path.exists():
        from shopml.kinds import get_kind

        layout = bundle.meta.input_type or get_kind(bundle.meta.kind).input_layout
        if layout != "rows":  # photos, texts, sessions: no feature table to profile
            return None, f"no feature table ({layout} inputs): watched by the output and sample checks"
        return None, f"no reference profile at {bundle.profile_path}: data drift not checked"
    cfg = config or DriftConfig()
    if log.count(start, end) == 0:
        return None, f"insufficient data: no predictions between {start.isoformat()} and {end.isoformat()}"
    reference = cached_profile(bundle.profile_path)
    importance = bundle.meta.model_extra.get("feature_importance") if bundle.meta.model_extra else None
    current = _current(log, bundle.schema, start, end, cfg)
    report = compare(
        reference,
        current,
        bundle.schema,
        config=cfg,
        importance=importance if isinstance(importance, dict) else None,
    )
    return report, None
