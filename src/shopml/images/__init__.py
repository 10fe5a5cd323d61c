"""Product photos: the IDX reader (Fashion-MNIST or simulated photos), the CNN trained through the
guarded loop (:mod:`shopml.nn`) with baselines, review threshold, calibration, ONNX export and report.

Importing this package imports neither torch nor scikit-learn; each name loads its module on first use.
"""

from typing import TYPE_CHECKING

from shopml._lazy import lazy_exports

if TYPE_CHECKING:
    from shopml.images.config import ImagesConfig
    from shopml.images.idx import FASHION_MNIST_DIR, ImageSet, load_images, load_test_set, read_idx, write_idx
    from shopml.images.trainer import ImagesResult, train_images

__all__ = [
    "FASHION_MNIST_DIR",
    "ImageSet",
    "ImagesConfig",
    "ImagesResult",
    "load_images",
    "load_test_set",
    "read_idx",
    "train_images",
    "write_idx",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ImagesConfig": "shopml.images.config",
        "FASHION_MNIST_DIR": "shopml.images.idx",
        "ImageSet": "shopml.images.idx",
        "load_images": "shopml.images.idx",
        "load_test_set": "shopml.images.idx",
        "read_idx": "shopml.images.idx",
        "write_idx": "shopml.images.idx",
        "ImagesResult": "shopml.images.trainer",
        "train_images": "shopml.images.trainer",
    },
)
