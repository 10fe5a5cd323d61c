"""The recommender's bundle: ONNX (parity-checked), weights, report and ``bundle.json`` (kind
``ranking``), published and registered like the tabular models (``shopml.train.publish``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.config import Workspace
from shopml.recs.evaluate import metric_names
from shopml.recs.export import check_parity, export_onnx, padded
from shopml.recs.reference import reference_outputs
from shopml.recs.report import render_report
from shopml.recs.train import RecsConfig, RecsResult, config_dict
from shopml.registry.bundle import ONNX_FILE, REPORT_FILE, BundleMeta, ModelBundle
from shopml.train.lineage import build_lineage
from shopml.train.publish import RegisterArgs, publish

__all__ = ["WEIGHTS_FILE", "flat_metrics", "publish_recs"]

WEIGHTS_FILE = "model.pt"
MAX_SESSION = 50  # events of a session the served model reads (the latest ones)


def flat_metrics(result: RecsResult, k: int) -> dict[str, float]:
    """``recall_at_K``/``mrr_at_K`` (+ ``_low``/``_high``) of the GRU and ``<model>.`` of the others; the
    GRU's also under the ranking kind's names (``recall_at_k``, ``mrr_at_k``: what the monitor's realised
    metrics and the loop's gate compare with)."""
    out: dict[str, float] = {}
    for model, e in result.evaluations.items():
        prefix = "" if model == "gru" else f"{model}."
        for m in metric_names(k):
            key = prefix + m.replace("@", "_at_")
            iv = e.metrics[m]
            out |= {key: iv.value, f"{key}_low": iv.low, f"{key}_high": iv.high}
            if model == "gru":
                kind_key = m.split("@")[0] + "_at_k"
                out |= {kind_key: iv.value, f"{kind_key}_low": iv.low, f"{kind_key}_high": iv.high}
    return out


def _fingerprint(data_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((data_dir / "sessions").rglob("*.parquet")):
        h.update(p.relative_to(data_dir).as_posix().encode())
        h.update(str(p.stat().st_size).encode())
    return h.hexdigest()[:16]


def _report(cfg: RecsConfig, result: RecsResult, lineage: dict[str, Any]) -> str:
    from shopml.nn import report_section

    sel = result.gru.selection_
    test = result.evaluations["gru"]
    return render_report(
        name=cfg.name,
        results={k: v.metrics for k, v in result.evaluations.items()},
        seconds={k: v.seconds for k, v in result.evaluations.items()},
        metric_names=metric_names(cfg.k),
        training_html=report_section(sel, title="Training (inner split, early stopping on validation)"),
        verdict=result.verdict + (" " + " ".join(result.notes) if result.notes else ""),
        info={
            "params": result.gru.info(),
            "lineage": {k: v for k, v in lineage.items() if k != "config"},
            "n_items": len(result.split.items),
            "predictions": int(test.ranks.size),
            "sessions": int(np.unique(test.session).size),
        },
        level=cfg.level,
        n_resamples=cfg.n_resamples,
    )


def publish_recs(
    cfg: RecsConfig,
    result: RecsResult,
    *,
    ws: Workspace | None,
    register: bool,
    tracking_uri: str | None = None,
    out_dir: str | Path | None = None,
    say: Any = lambda _m: None,
) -> RecsResult:
    """Export, parity-check, write and (``register``) register the bundle; fills the result's paths."""
    import torch

    k = cfg.k
    lineage = build_lineage(
        data_fingerprint=_fingerprint(cfg.data_dir),
        data_source=str(cfg.data_dir / "sessions"),
        config=config_dict(cfg),
        seed=cfg.seed,
    )
    flat = flat_metrics(result, k)
    counts = np.bincount(result.split.train.item, minlength=len(result.split.items))
    popular = [result.split.items[i] for i in np.argsort(-counts, kind="stable")[:100]]
    meta = BundleMeta.model_validate(
        {
            "name": cfg.name,
            "task": "recs",
            "kind": "ranking",
            "schema": {"features": [{"name": "session", "kind": "text"}]},
            "inputs": ["items", "lengths"],
            "score_output": "scores",
            "target": "next_item",  # labels: the item the session took next (shopml labels ingest)
            "metrics": flat,
            "lineage": lineage,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "items": result.split.items,
            "top_k": k,
            "popular": popular,
            "max_session_length": MAX_SESSION,
            "params": result.gru.info(),
            "verdict": result.verdict,
        }
    )
    html = _report(cfg, result, lineage)
    meta.reference_outputs = reference_outputs(cfg, result)  # type: ignore[attr-defined]  # extra="allow"
    test = result.split.test
    held_out = np.arange(min(cfg.parity_sessions, test.n_sessions))

    def write(staging: Path) -> float:
        staging.mkdir(parents=True, exist_ok=False)
        model = result.gru.model_
        raw = export_onnx(model)
        items, lengths = padded(test, held_out, MAX_SESSION)
        result.parity = check_parity(raw, model, items, lengths, k=k)
        (staging / ONNX_FILE).write_bytes(raw)
        torch.save(model.state_dict(), staging / WEIGHTS_FILE)
        (staging / REPORT_FILE).write_text(html, encoding="utf-8")
        meta.parity = result.parity.to_dict()  # type: ignore[attr-defined]  # extra="allow"
        ModelBundle(staging, meta).save_meta()
        return result.parity.max_abs_diff

    say("bundle: ONNX export and parity check")
    registration = RegisterArgs(
        params={f"gru.{k_}": v for k_, v in result.gru.info().items()}
        | {"data_fingerprint": lineage["data_fingerprint"]},
        metrics=flat,
        tags={"task": "recs", "kind": "ranking"},
        tracking_uri=tracking_uri,
    )
    final, _, version, report_path = publish(
        cfg.name, write, ws=ws, out_dir=out_dir, registration=registration if register else None, say=say
    )
    result.bundle_dir, result.report_path, result.version = final, report_path, version
    return result
