"""Retraining the text classifier in the loop: texts as a table, a challenger trained on the loop's window
of texts, and the holdout scored by a bundle's ONNX graph as the server scores it.

The loop's data for a text model is a table (Parquet or CSV) with one text per row: ``text`` (a string:
a product's title and description, a review, a query), the class a person assigned (the policy's
``data.target``, e.g. ``category``), the event time and the time the label arrived — as for every other
model the loop retrains. :func:`text_table` builds one.

The challenger is :func:`shopml.text.train_text` on the window's texts: a stratified share
(``valid_share``) becomes its test set, the rest its training texts. The class list is the policy's
``train_config.classes`` (so every challenger answers in the champion's classes, a new product line's
included before it has texts), else the window's sorted labels. Recency weights are not used: the
encoder's loss takes every text of the window alike.

>>> t = text_table(["red dress", "oak table"], ["fashion", "home"])
>>> table_texts(t)
['red dress', 'oak table']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopml.errors import DataError, SchemaError
from shopml.text.config import TARGETS
from shopml.text.data import TextSet, class_index

__all__ = ["TEXT_COLUMN", "score_texts", "table_texts", "text_table", "train_from_table"]

TEXT_COLUMN = "text"


def text_table(
    texts: Sequence[str], labels: Sequence[str], target: str = "category", **columns: Any
) -> pa.Table:
    """A text table: ``text``, the label column ``target`` and extra ``columns``."""
    if len(texts) != len(labels):
        raise SchemaError(
            f"a text table needs one label per text, got {len(texts)} texts, {len(labels)} labels"
        )
    return pa.table({TEXT_COLUMN: pa.array(list(texts), pa.string()), target: list(labels), **columns})


def table_texts(table: pa.Table, column: str = TEXT_COLUMN) -> list[str]:
    """The texts of a text table; a missing column, a non-string column, a missing or empty text is an
    error naming the column (and the row)."""
    if column not in table.column_names:
        raise SchemaError(f"text table lacks column '{column}' (have {table.column_names})")
    col = table.column(column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise SchemaError(f"text table column '{column}' must hold strings, got {col.type}")
    texts: list[Any] = col.to_pylist()
    bad = next((i for i, t in enumerate(texts) if t is None or not t.strip()), None)
    if bad is not None:
        raise DataError(f"text table column '{column}' row {bad}: missing or empty text ({texts[bad]!r})")
    return texts


def _labels(table: pa.Table, target: str) -> list[Any]:
    if target not in table.column_names:
        raise SchemaError(f"text table lacks the target column '{target}' (have {table.column_names})")
    col = table.column(target)
    if not (
        pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_integer(col.type)
    ):
        raise SchemaError(f"text table column '{target}' must hold class names, got {col.type}")
    if col.null_count:
        raise DataError(f"text table column '{target}' has {col.null_count} missing label(s)")
    return col.to_pylist()


def train_from_table(
    table: pa.Table, target: str, out_dir: Path, name: str, train_config: dict[str, Any]
) -> Path:
    """Train a text challenger on a text table; write its bundle to ``out_dir`` and return it.
    ``train_config``: :class:`shopml.text.TextConfig` fields (``quick``: its quick settings; ``classes``:
    the class list) plus ``id_column`` (the business key the bundle declares; default the target's in
    :data:`shopml.text.config.TARGETS`)."""
    from shopml.text.config import TextConfig
    from shopml.text.finetune import split_valid
    from shopml.text.trainer import train_text

    settings = dict(train_config)
    id_column = settings.pop("id_column", TARGETS[target][3] if target in TARGETS else None)
    texts, labels = table_texts(table), _labels(table, target)
    given = settings.pop("classes", None)
    classes, y = class_index(
        labels, [str(c) for c in given] if given else None, f"text table column '{target}'"
    )
    cfg = TextConfig.make(quick=bool(settings.pop("quick", False)), name=name, classes=classes, **settings)
    train, test = split_valid(y, cfg.valid_share, cfg.seed)
    data = TextSet(
        [texts[i] for i in train], y[train], [texts[i] for i in test], y[test], classes,
        "loop table", f"{table.num_rows} rows", target, id_column,
    )  # fmt: skip
    result = train_text(cfg, ws=None, register=False, out_dir=out_dir, data=data)
    return Path(result.bundle_dir)


def score_texts(bundle: Any, table: pa.Table) -> np.ndarray:
    """Class probabilities ``[N, C]`` of a text table from the bundle's ONNX graph and tokenizer (the
    server's tokenisation: cut at the bundle's ``max_length`` tokens)."""
    from shopml.text.export import load_tokenizer, onnx_outputs, tokenize

    texts = table_texts(table)
    if not texts:
        return np.zeros((0, 0))
    meta = bundle.meta.model_dump(by_alias=True)
    tok = load_tokenizer(Path(bundle.path) / str(meta.get("tokenizer") or "tokenizer.json"))
    ids, mask = tokenize(tok, texts, int(meta.get("max_length") or 64))
    proba, _ = onnx_outputs(Path(bundle.onnx_path).read_bytes(), ids, mask)
    return proba.astype(np.float64)
