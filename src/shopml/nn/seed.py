"""Seeding and determinism on CPU: the same seed gives the same weights, bit for bit."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["deterministic", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's global and torch's generators (DataLoader shuffling draws from torch's)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def deterministic(seed: int, threads: int | None = None) -> Iterator[None]:
    """Seed everything and switch torch to deterministic algorithms (warning where an operation has
    none) for the block; the previous switch and thread count are restored afterwards."""
    import torch

    was = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    seed_everything(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn_only)
        if threads is not None:
            torch.set_num_threads(old_threads)
