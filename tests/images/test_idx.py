"""The IDX reader and writer, and finding a photo folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopml.errors import DataError, NotFoundError
from shopml.images import FASHION_MNIST_DIR, load_images, load_test_set, read_idx, write_idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    a = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / name, a)
    assert np.array_equal(read_idx(tmp_path / name), a)
    labels = np.array([1, -2, 300], dtype=np.int32)
    write_idx(tmp_path / "l.gz", labels)
    assert read_idx(tmp_path / "l.gz").tolist() == [1, -2, 300]


def test_bad_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "x-idx1-ubyte").write_bytes(b"PK\x03\x04zip")
    with pytest.raises(DataError, match=r"x-idx1-ubyte is not an IDX file"):
        read_idx(tmp_path / "x-idx1-ubyte")
    write_idx(tmp_path / "y", np.zeros(10, dtype=np.uint8))
    (tmp_path / "y").write_bytes((tmp_path / "y").read_bytes()[:-3])
    with pytest.raises(DataError, match=r"header says \(10,\) \(10 bytes of data\), the file holds 7"):
        read_idx(tmp_path / "y")
    with pytest.raises(NotFoundError, match=r"holds no product photos: expected train-images-idx3-ubyte"):
        load_images(tmp_path)


def test_simulated_folder_and_its_parent(photos: Path) -> None:
    ds = load_images(photos)
    assert ds.train_x.shape == (480, 28, 28) and ds.test_x.shape == (96, 28, 28)
    assert ds.classes[:3] == ["tshirt", "trousers", "bag"] and ds.train_x.dtype == np.uint8
    x, y, classes = load_test_set(photos / "drift" / "new_category")
    assert classes[-1] == "hat" and (y == 8).any() and len(x) == 96
    sub = ds.subset(100, 20, seed=1)
    assert len(sub.train_y) == 100 and len(sub.test_y) == 20


@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="Fashion-MNIST not installed (make data)")
def test_fashion_mnist_from_the_debian_package() -> None:
    ds = load_images()
    assert ds.train_x.shape == (60000, 28, 28) and ds.test_x.shape == (10000, 28, 28)
    assert ds.classes[0] == "T-shirt/top" and np.bincount(ds.test_y).tolist() == [1000] * 10
