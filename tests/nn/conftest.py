"""Tiny models and data for the guarded training loop's tests (torch at one thread)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def blobs(n: int = 128, seed: int = 0, noise: float = 0.5) -> list[tuple[Any, Any]]:
    """Two Gaussian blobs in 4 dimensions, as batches of 32."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) * noise + y[:, None].float() * 1.5
    return [(x[i : i + 32], y[i : i + 32]) for i in range(0, n, 32)]


def ce_loss(model: Any, batch: Any) -> Any:
    xb, yb = batch
    return torch.nn.functional.cross_entropy(model(xb), yb)


def accuracy(model: Any, data: Any) -> float:
    hit = n = 0
    for xb, yb in data:
        hit += int((model(xb).argmax(1) == yb).sum())
        n += len(yb)
    return hit / n


def mlp(seed: int = 0, width: int = 16) -> Any:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.ReLU(), torch.nn.Linear(width, 2))


@pytest.fixture
def data() -> tuple[list[Any], list[Any]]:
    return blobs(128, seed=0), blobs(64, seed=1)
