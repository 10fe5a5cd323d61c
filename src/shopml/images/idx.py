"""Product photos on disk: the IDX format of (Fashion-)MNIST, read and written, and the folders they
live in.

A folder of product photos holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``), and may name its
classes in ``classes.json`` (a list, in label order). Fashion-MNIST ships in this layout in the Debian
package ``dataset-fashion-mnist`` (:data:`FASHION_MNIST_DIR`); ``shopml simulate --images N`` writes the
same layout under ``images/``. Nothing is ever downloaded.

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> write_idx(d / "x-idx3-ubyte.gz", np.arange(8, dtype=np.uint8).reshape(2, 2, 2))
>>> read_idx(d / "x-idx3-ubyte.gz").tolist()
[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
"""

from __future__ import annotations

import gzip
import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopml.errors import DataError, NotFoundError

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "ImageSet",
    "find_image_dir",
    "load_images",
    "load_test_set",
    "read_idx",
    "write_idx",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int32): 0x0C}


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (gzip-compressed when its name ends in ``.gz``) as a NumPy array."""
    p = Path(path)
    raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{p} is not an IDX file (magic bytes {raw[:4]!r})")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}i", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_DTYPES[raw[2]])
    need = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != need:
        raise DataError(f"{p}: header says {dims} ({need} bytes of data), the file holds {len(body)}")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8, int8 or int32) as IDX; gzip (with a fixed timestamp, so the same array
    gives the same bytes) when the name ends in ``.gz``."""
    a = np.ascontiguousarray(array)
    if a.dtype not in _CODES:
        raise DataError(f"write_idx takes uint8, int8 or int32 arrays, got {a.dtype}")
    head = bytes([0, 0, _CODES[a.dtype], a.ndim]) + struct.pack(f">{a.ndim}i", *a.shape)
    data = head + a.astype(a.dtype.newbyteorder(">")).tobytes()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
            f.write(data)
        data = buf.getvalue()
    p.write_bytes(data)


@dataclass(frozen=True)
class ImageSet:
    """Training and test photos (uint8 ``[N, 28, 28]``), labels (class indices) and class names."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: list[str]
    source: Path

    def subset(self, n_train: int, n_test: int, seed: int = 0) -> ImageSet:
        """A random (seeded) subset of at most ``n_train`` training and ``n_test`` test photos."""
        rng = np.random.default_rng(seed)
        tr = np.sort(rng.permutation(len(self.train_y))[:n_train])
        te = np.sort(rng.permutation(len(self.test_y))[:n_test])
        return ImageSet(
            self.train_x[tr], self.train_y[tr], self.test_x[te], self.test_y[te], self.classes, self.source
        )


def _file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_image_dir(data: str | Path | None = None) -> Path:
    """The folder holding the IDX files: ``data`` itself or its ``images/`` sub-folder (a simulated
    world), or, without ``data``, Fashion-MNIST from the Debian package."""
    candidates = [Path(data), Path(data) / "images"] if data is not None else [FASHION_MNIST_DIR]
    for c in candidates:
        if all(_file(c, stem) for stem in FILES.values()):
            return c
    if data is None:
        raise NotFoundError(
            f"no product photos at {FASHION_MNIST_DIR}: install Fashion-MNIST (`make data`, or `apt-get "
            "install dataset-fashion-mnist`) or pass --data DIR (a folder `shopml simulate --images N` wrote)"
        )
    raise NotFoundError(
        f"{data} holds no product photos: expected {', '.join(FILES.values())} (optionally .gz) in it or in "
        "its images/ sub-folder"
    )


def _classes(folder: Path, labels: np.ndarray) -> list[str]:
    names_file = folder / "classes.json"
    top = int(np.max(labels, initial=0))
    if names_file.is_file():
        classes = [str(c) for c in json.loads(names_file.read_text(encoding="utf-8"))]
    else:
        classes = FASHION_MNIST_CLASSES if top == 9 else [f"class_{i}" for i in range(top + 1)]
    if top >= len(classes):
        raise DataError(f"{folder}: label {top} but only {len(classes)} class names {classes}")
    return classes


def load_test_set(folder: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The ``t10k-*`` photos and labels of a folder (a drift scenario's) and its class names."""
    f = Path(folder)
    xs, ys = _file(f, FILES["test_x"]), _file(f, FILES["test_y"])
    if xs is None or ys is None:
        raise NotFoundError(f"{f} holds no test photos: expected {FILES['test_x']} and {FILES['test_y']}")
    x, y = read_idx(xs).astype(np.uint8), read_idx(ys).astype(np.int64)
    if x.ndim != 3 or len(x) != len(y):
        raise DataError(f"{f}: test images {x.shape} and labels {y.shape} do not match")
    return x, y, _classes(f, y)


def load_images(data: str | Path | None = None) -> ImageSet:
    """Read a photo folder (see :func:`find_image_dir`); labels are checked against the class names."""
    folder = find_image_dir(data)
    arrays = {k: read_idx(_file(folder, stem)) for k, stem in FILES.items()}  # type: ignore[arg-type]
    for part in ("train", "test"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{folder}: {part} images {x.shape} and labels {y.shape} do not match")
    classes = _classes(folder, np.concatenate([arrays["train_y"], arrays["test_y"]]))
    return ImageSet(
        arrays["train_x"].astype(np.uint8),
        arrays["train_y"].astype(np.int64),
        arrays["test_x"].astype(np.uint8),
        arrays["test_y"].astype(np.int64),
        classes,
        folder,
    )
