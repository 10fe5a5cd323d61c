"""``train(...)`` for kinds without a threshold: config → checked bundle (and a registered version).

Order as in the binary flow: load and check data → out-of-time split → search (early-stopped) → test
metrics with intervals → diagnosis → ONNX export with the kind's outputs + parity check → reference
profile → report → bundle → register.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from shopml.config import Workspace
from shopml.kinds import ModelKind
from shopml.registry.bundle import BundleMeta
from shopml.train.bundle import write_kind_bundle
from shopml.train.config import TrainConfig
from shopml.train.data import load_dataset
from shopml.train.kind_flow import fit_kind
from shopml.train.kind_report import render_kind_report
from shopml.train.lineage import build_lineage
from shopml.train.publish import RegisterArgs, publish
from shopml.train.result import TrainResult, feature_importance
from shopml.train.splits import time_split

__all__ = ["train_kind"]


def train_kind(
    config: TrainConfig,
    kind: ModelKind,
    *,
    table: pa.Table | None,
    out_dir: str | Path | None,
    ws: Workspace | None,
    do_register: bool,
    tracking_uri: str | None,
    say: Callable[[str], None],
) -> TrainResult:
    """One training run of ``kind`` (see :func:`shopml.train.train` for the arguments)."""
    say("loading data")
    ds = load_dataset(config, table)
    positives = kind.split_positives(ds.y)
    split = time_split(ds.times, positives, config.split, ds.label_times)
    fit = fit_kind(kind, ds, split, config, say)

    say("bundle: ONNX export, parity check, profile, report")
    name = config.model_name
    split_info = split.describe(ds.times, positives)
    lineage = build_lineage(
        data_fingerprint=ds.fingerprint,
        data_source=str(config.table),
        config=config.model_dump(mode="json"),
        seed=config.seed,
    )
    flat: dict[str, float] = {}
    for k, iv in fit.metrics.items():
        flat.update(
            {f"{k}{s}": v for s, v in (("", iv.value), ("_low", iv.low), ("_high", iv.high)) if v == v}
        )
    meta = BundleMeta.model_validate(
        {
            "name": name,
            "task": config.task,
            "kind": kind.name,
            "schema": ds.schema.to_dict(),
            "inputs": ds.inputs,
            "score_output": kind.served_output,
            "objective": kind.primary_metric,
            "id_column": config.id_column,
            "time_column": config.time_column,
            "target": config.target,
            "metrics": flat,
            "lineage": lineage,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "diagnosis": fit.diagnosis.to_dict(),
            "split": split_info,
            "params": fit.params.model_dump(),
            "rounds": fit.rounds,
            **ds.target_meta,
        }
    )
    html = render_kind_report(
        name=name,
        kind=kind.name,
        primary=kind.primary_metric,
        metrics=fit.metrics,
        level=config.level,
        diagnosis=fit.diagnosis.to_dict(),
        search=fit.search_table,
        split=split_info,
        importance=feature_importance(fit.model.pipeline),
    )

    params = {f"xgb.{k}": v for k, v in fit.params.model_dump().items()}
    params.update(kind=kind.name, seed=config.seed, rounds=fit.rounds, data_fingerprint=ds.fingerprint)
    final, delta, version, report_path = publish(
        name,
        lambda staging: write_kind_bundle(
            staging, ds, config, fit.model, split, fit.profile_pred, meta, html
        ),
        ws=ws,
        out_dir=out_dir,
        registration=RegisterArgs(
            params=params,
            metrics=flat,
            tags={"task": config.task, "kind": kind.name, "diagnosis": fit.diagnosis.verdict},
            tracking_uri=tracking_uri,
        )
        if do_register
        else None,
        say=say,
    )
    return TrainResult(
        name=name,
        task=config.task,
        strategy="none",
        calibration="none",
        threshold=float("nan"),
        objective=kind.primary_metric,
        metrics=fit.metrics,
        baseline={},
        diagnosis=fit.diagnosis,
        imbalance_table=[],
        search_table=fit.search_table,
        split=split_info,
        bundle_dir=final,
        report_path=report_path,
        parity_max_abs_diff=delta,
        version=version,
        model=fit.model,
    )
