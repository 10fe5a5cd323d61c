"""The labelled texts of a simulated world: the training split and the held-out-template test split.

>>> ts = TextSet(["a", "b"], np.array([0, 1]), ["c"], np.array([1]), ["x", "y"], "products", "here")
>>> ts.subset(1, 1, seed=0).classes
['x', 'y']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from shopml.errors import DataError
from shopml.text.config import TARGETS

__all__ = ["TextSet", "class_index", "load_texts"]


@dataclass(frozen=True)
class TextSet:
    """Training and test texts with class indices into ``classes`` (sorted names unless given); ``label``
    names the label column and ``id_column`` the business key its delayed labels join on."""

    train_texts: list[str]
    train_y: np.ndarray
    test_texts: list[str]
    test_y: np.ndarray
    classes: list[str]
    table: str
    source: str
    label: str = ""
    id_column: str | None = None

    def subset(self, max_train: int, max_test: int, seed: int) -> TextSet:
        """A seeded random subset of at most ``max_train``/``max_test`` texts (order kept)."""
        rng = np.random.default_rng([seed, 15])

        def pick(n: int, k: int) -> np.ndarray:
            return np.sort(rng.permutation(n)[: min(n, k)])

        tr, te = pick(len(self.train_y), max_train), pick(len(self.test_y), max_test)
        return replace(
            self,
            train_texts=[self.train_texts[i] for i in tr],
            train_y=self.train_y[tr],
            test_texts=[self.test_texts[i] for i in te],
            test_y=self.test_y[te],
        )

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) over the texts and labels the model was trained and tested on."""
        h = hashlib.sha256()
        for texts, y in ((self.train_texts, self.train_y), (self.test_texts, self.test_y)):
            h.update("\x1e".join(texts).encode("utf-8"))
            h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
        return h.hexdigest()[:16]


def class_index(labels: list[object], classes: list[str] | None, field: str) -> tuple[list[str], np.ndarray]:
    """The class list (``classes`` as given, else the sorted labels) and each label's index in it; a
    label outside the given classes is an error naming them."""
    names = sorted({str(v) for v in labels if v is not None}) if classes is None else list(classes)
    if len(names) < 2:
        raise DataError(f"{field} needs at least 2 classes, got {names}")
    unknown = sorted({str(v) for v in labels if v is not None} - set(names))
    if unknown:
        raise DataError(f"{field} holds classes {unknown} that are not in classes {names}")
    index = {c: i for i, c in enumerate(names)}
    return names, np.array([index.get(str(v), -1) if v is not None else -1 for v in labels], dtype=np.int64)


def load_texts(world: str | Path, target: str, classes: list[str] | None = None) -> TextSet:
    """Read ``world/texts/<table>`` for ``target`` (see :data:`shopml.text.config.TARGETS`); the text is
    the table's text columns joined with `` . ``; split by the ``split`` column; ``classes``: the class
    list (default: the sorted labels)."""
    import pyarrow.dataset as pads

    table, columns, label, id_column = TARGETS[target]
    folder = Path(world) / "texts" / table
    if not folder.is_dir():
        raise DataError(
            f"{folder} does not exist: simulate texts first (shopml simulate --texts 200 --out {world})"
        )
    data = pads.dataset(folder, format="parquet", partitioning="hive")
    missing = [c for c in (*columns, label, "split") if c not in data.schema.names]
    if missing:
        raise DataError(f"{folder}: missing columns {missing}; expected {[*columns, label, 'split']}")
    t = data.to_table(columns=[*columns, label, "split"])
    parts = [t.column(c).to_pylist() for c in columns]
    texts = [" . ".join(p or "" for p in row) for row in zip(*parts, strict=True)]
    labels = t.column(label).to_pylist()
    split = np.asarray(t.column("split").to_pylist())
    names, y = class_index(labels, classes, f"{folder}: column {label!r}")
    ok = y >= 0
    tr, te = np.flatnonzero(ok & (split == "train")), np.flatnonzero(ok & (split == "test"))
    if tr.size == 0 or te.size == 0:
        raise DataError(f"{folder}: needs rows with split 'train' and 'test', got {tr.size} and {te.size}")
    return TextSet(
        [texts[i] for i in tr],
        y[tr],
        [texts[i] for i in te],
        y[te],
        names,
        table,
        str(folder),
        label,
        id_column,
    )
