"""A small simulated shop with texts for the text tests (written once per session; hub off)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def text_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six days, 80 texts of each kind per day (no sessions)."""
    from shopml.simulate import simulate

    out = tmp_path_factory.mktemp("text_world")
    simulate(out, days=6, customers=100, session_rate=0.0, seed=5, texts=80)
    return out


def log_served(ws: Any, bundle: Any, texts: list[str], times: np.ndarray, tag: str, keys: list[str]) -> None:
    """Score ``texts`` as the server does (the text codec with each text's business key ``keys``, ONNX
    Runtime, the kind's head wrapped by the codec) and write the rows the server logs, at ``times``
    (``datetime64[us]``, UTC, one day), request ids ``{tag}-{i}``."""
    import pyarrow as pa

    from shopml.kinds import get_kind
    from shopml.logstore.layout import partition_dir, write_part
    from shopml.serve.predictor import OnnxPredictor
    from shopml.serve.text import TextCodec

    codec = TextCodec(bundle)
    predictor = OnnxPredictor(bundle).load(codec.ort_types())
    key = str(codec.id_column)
    enc = codec.encode_rows([{"text": x, key: k} for x, k in zip(texts, keys, strict=True)])
    out = enc.finish(codec.runner(predictor)(codec.concat([enc])))
    head = codec.wrap_head(get_kind("multiclass").head(bundle.meta.model_dump(by_alias=True)))
    cols = head.log_columns(out)
    n = len(texts)
    table = pa.table(
        {
            "request_id": [f"{tag}-{i}" for i in range(n)],
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "model": [bundle.name] * n,
            "model_version": pa.array(np.full(n, bundle.version, np.int64)),
            "latency_ms": np.ones(n),
            key: enc.ids,
            "score": head.score(out),
            "predicted_label": cols["predicted_label"].tolist(),
            "probability": cols["probability"],
            "probabilities": cols["probabilities"].tolist(),
            "text": cols["text"].tolist(),
            "text_length": cols["text_length"],
            "unknown_token_rate": cols["unknown_token_rate"],
            "embedding": pa.array(cols["embedding"].tolist(), pa.list_(pa.float32())),
        }
    )
    day = str(np.datetime_as_string(times[0], unit="D"))
    write_part(partition_dir(ws.predictions_dir, bundle.name, day), table)
