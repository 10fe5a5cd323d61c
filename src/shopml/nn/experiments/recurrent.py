"""Vanishing gradients in recurrent nets: a tanh RNN, a GRU and an LSTM on the latching task.

The latching task: the first of ``L`` steps carries one bit (input ``[1, 0]`` or ``[0, 1]``), every
later step only noise; after the last step the net must say which bit it saw. Only a net whose
gradient reaches back ``L`` steps can learn it (Bengio et al. 1994; Hochreiter & Schmidhuber 1997).

Measured after training, on a fresh batch: ``‖∂L/∂s_t‖`` for the recurrent state ``s_t`` (``h_t``; for
the LSTM its memory too, ``(h_t, c_t)``) at steps ``t`` across the sequence, by splitting the sequence
at ``t`` and differentiating the loss with respect to the state carried over; ``grad_ratio`` is the
first step's norm over the last step's. The gated cells start with their gates open to memory
(GRU update-gate bias +3, LSTM forget-gate bias +3), the common initialisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["CELLS", "RecurrentRun", "latching_batch", "run_recurrent"]

CELLS = ("rnn", "gru", "lstm")


def latching_batch(n: int, length: int, g: torch.Generator, noise: float = 0.2) -> tuple[Any, Any]:
    """Inputs ``[n, length, 2]`` and the bit to recall ``[n]``."""
    bit = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, length, 2, generator=g) * noise
    x[:, 0, :] = nn.functional.one_hot(bit, 2).float()
    return x, bit


class Latch(nn.Module):
    """A one-layer recurrent net with a linear read-out of its last state."""

    gate_bias = 3.0

    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        self.cell = cell
        kinds = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
        self.rnn = kinds[cell](2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 2)
        with torch.no_grad():
            h = hidden
            # gate order: GRU (reset, update, new), LSTM (input, forget, cell, output); the second
            # gate (GRU update, LSTM forget) keeps the memory
            if cell in ("gru", "lstm"):
                self.rnn.bias_hh_l0[h : 2 * h].fill_(self.gate_bias)

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        seq, last = self.rnn(x, state)
        return self.out(seq[:, -1]), last


@dataclass(frozen=True)
class RecurrentRun:
    """One cell at one length: the gradient ratio, the accuracy, and the norm profile over steps."""

    cell: str
    length: int
    grad_ratio: float
    accuracy: float
    steps: list[int]
    grad_norms: list[float]
    losses: list[float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def _state_grad_norms(model: Latch, x: torch.Tensor, y: torch.Tensor, points: list[int]) -> list[float]:
    loss_fn = nn.functional.cross_entropy
    norms = []
    for t in points:  # state after step t (1-based), then the rest of the sequence
        with torch.no_grad():
            _, state = model.rnn(x[:, :t])
        leaves = tuple(s.detach().requires_grad_(True) for s in state) if isinstance(state, tuple) else (
            state.detach().requires_grad_(True),
        )  # fmt: skip
        carried = leaves if len(leaves) > 1 else leaves[0]
        if t < x.shape[1]:
            logits, _ = model(x[:, t:], carried)
        else:
            logits = model.out(leaves[0][-1])
        grads = torch.autograd.grad(loss_fn(logits, y), leaves, allow_unused=True)
        norms.append(float(np.sqrt(sum(float((g.double() ** 2).sum()) for g in grads if g is not None))))
    return norms


def run_recurrent(
    cell: str,
    length: int,
    *,
    hidden: int = 32,
    steps: int = 300,
    batch: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
) -> RecurrentRun:
    """Train ``cell`` on the latching task of ``length`` steps (Adam, norm clipping at 1 as a guard) and
    measure its gradient profile and accuracy on fresh sequences."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Latch(cell, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = latching_batch(batch, length, g)
        loss = nn.functional.cross_entropy(model(x)[0], y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    x, y = latching_batch(256, length, g)
    with torch.no_grad():
        acc = float((model(x)[0].argmax(1) == y).float().mean())
    points = sorted({1, *np.linspace(1, length, 8).round().astype(int).tolist(), length})
    norms = _state_grad_norms(model, x, y, points)
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("inf")
    return RecurrentRun(cell, length, ratio, acc, points, norms, losses)
