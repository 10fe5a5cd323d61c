"""Retraining the photo classifier in the loop: photos as a table, a challenger trained on the loop's
window of photos, and the holdout scored by a bundle's ONNX graph.

The loop's data for an image model is a table (Parquet) with one photo per row: ``image`` (the uint8
pixels, row-major, as ``binary`` of H·W bytes or a list of integers), the category a person assigned
(the policy's ``data.target``, e.g. ``category``, class names), the event time and the time the label
arrived — as for every other model the loop retrains. :func:`photo_table` builds one.

The challenger is :func:`shopml.images.train_images` on the window's photos: a stratified share
(``valid_share``) becomes its test set, the rest its training photos. The class list is the policy's
``train_config.classes`` (so every challenger answers in the champion's classes), else the window's sorted
labels. Recency weights are not used: the CNN's loss takes every photo of the window alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopml.errors import DataError, SchemaError

__all__ = ["IMAGE_COLUMN", "photo_table", "score_photos", "table_photos", "train_from_table"]

IMAGE_COLUMN = "image"
SIZE = 28


def photo_table(x: np.ndarray, labels: Sequence[str], **columns: Any) -> pa.Table:
    """A photo table: ``image`` (binary, H·W bytes per uint8 photo), ``category`` and extra ``columns``."""
    a = np.ascontiguousarray(np.asarray(x, dtype=np.uint8))
    if a.ndim != 3 or len(a) != len(labels):
        raise SchemaError(f"photos must be uint8 [N, H, W] with one label each, got {list(a.shape)}")
    images = pa.array([row.tobytes() for row in a], pa.binary())
    return pa.table({IMAGE_COLUMN: images, "category": list(labels), **columns})


def table_photos(table: pa.Table, column: str = IMAGE_COLUMN, size: int = SIZE) -> np.ndarray:
    """The photos of a photo table as uint8 ``[N, size, size]``; a row of another size is an error."""
    if column not in table.column_names:
        raise SchemaError(f"photo table lacks column '{column}' (have {table.column_names})")
    col = table.column(column).combine_chunks()
    if col.null_count:
        raise DataError(f"photo table column '{column}' has {col.null_count} missing photo(s)")
    if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
        rows = [np.frombuffer(b, np.uint8) for b in col.to_pylist()]
    else:
        rows = [np.asarray(v, dtype=np.int64) for v in col.to_pylist()]
    bad = next((i for i, r in enumerate(rows) if r.size != size * size), None)
    if bad is not None:
        raise DataError(
            f"photo table column '{column}' row {bad}: {rows[bad].size} pixels, expected {size}×{size}"
        )
    if rows and (min(int(r.min()) for r in rows) < 0 or max(int(r.max()) for r in rows) > 255):
        raise DataError(f"photo table column '{column}': pixels must be 0–255")
    return (
        np.stack(rows).astype(np.uint8).reshape(-1, size, size)
        if rows
        else np.zeros((0, size, size), np.uint8)
    )


def train_from_table(
    table: pa.Table, target: str, out_dir: Path, name: str, train_config: dict[str, Any]
) -> Path:
    """Train an image challenger on a photo table; write its bundle to ``out_dir`` and return it.
    ``train_config``: :class:`shopml.images.ImagesConfig` fields (``quick``: its quick settings) plus
    ``classes``."""
    from shopml.images import ImagesConfig, train_images
    from shopml.images.flow import split_valid
    from shopml.images.idx import write_idx

    settings = dict(train_config)
    given = settings.pop("classes", None)
    if target not in table.column_names:
        raise SchemaError(f"photo table lacks the target column '{target}' (have {table.column_names})")
    labels = [str(v) for v in table.column(target).to_pylist()]
    classes = [str(c) for c in given] if given else sorted(set(labels))
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise DataError(f"photo table column '{target}' holds categories {unknown} not in classes {classes}")
    x, y = table_photos(table), np.array([classes.index(v) for v in labels], dtype=np.int64)
    cfg = ImagesConfig.make(quick=bool(settings.pop("quick", False)), name=name, **settings)
    train, test = split_valid(y, cfg.valid_share, cfg.seed)
    photos = out_dir.parent / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for prefix, rows in (("train", train), ("t10k", test)):
        write_idx(photos / f"{prefix}-images-idx3-ubyte.gz", x[rows])
        write_idx(photos / f"{prefix}-labels-idx1-ubyte.gz", y[rows].astype(np.uint8))
    (photos / "classes.json").write_text(json.dumps(classes) + "\n", encoding="utf-8")
    cfg = ImagesConfig.make(quick=cfg.quick, name=name, **{**settings, "data": photos})
    result = train_images(cfg, ws=None, register=False, out_dir=out_dir)
    return Path(result.bundle_dir)


def score_photos(bundle: Any, table: pa.Table) -> np.ndarray:
    """Class probabilities ``[N, C]`` of a photo table from the bundle's ONNX graph (the served path)."""
    from shopml.images.export import onnx_proba

    x = table_photos(table)
    if len(x) == 0:
        return np.zeros((0, 0))
    return onnx_proba(Path(bundle.onnx_path).read_bytes(), x).astype(np.float64)
