"""The GRU session recommender (after Hidasi et al., "Session-based recommendations with recurrent neural
networks", 2016, and "Recurrent neural networks with top-k gains", 2018) and its losses.

One item embedding serves as input and output (a scored item is its embedding against the projected
hidden state, plus a bias); a GRU (or LSTM) reads the session; dropout on the embedding and the hidden
state. ``forward(items, lengths)`` scores every item after each session's last event: that is the served
graph (ONNX input ``items`` [N, L] right-padded, ``lengths`` [N]; output ``scores`` [N, I]).

Losses over a candidate set (the batch's targets and extra items sampled by popularity^alpha):
**cross-entropy with logQ correction** (a candidate's logit minus the log of its expected count among
the candidates, so frequently sampled items are not over-penalised) and **BPR-max** (the target against
a softmax-weighted negative, plus a score regulariser).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

__all__ = ["GRURec", "bpr_max_loss", "sampled_logits", "xe_logq_loss"]

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class GRURec(nn.Module):
    """Item embedding → GRU/LSTM → projection back to the embedding space."""

    def __init__(
        self,
        n_items: int,
        embedding: int = 64,
        hidden: int = 128,
        cell: Literal["gru", "lstm"] = "gru",
        dropout_embedding: float = 0.1,
        dropout_hidden: float = 0.1,
    ) -> None:
        super().__init__()
        self.n_items, self.cell = n_items, cell
        self.item = nn.Embedding(n_items, embedding)
        nn.init.normal_(self.item.weight, std=embedding**-0.5)
        self.item_bias = nn.Embedding(n_items, 1)  # a module, so the embedding stays the first layer
        nn.init.zeros_(self.item_bias.weight)
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(embedding, hidden, batch_first=True)
        self.proj = nn.Linear(hidden, embedding)
        self.drop_e = nn.Dropout(dropout_embedding)
        self.drop_h = nn.Dropout(dropout_hidden)

    def encode(self, items: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Session representations [B, T, E] after each event of ``items`` [B, T], and the RNN state."""
        out, state = self.rnn(self.drop_e(self.item(items)), state)
        return self.proj(self.drop_h(out)), state

    def scores(self, rep: torch.Tensor, candidates: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of ``candidates`` (all items when None) for representations [B, E] → [B, C]."""
        bias = self.item_bias.weight[:, 0]
        if candidates is None:
            return rep @ self.item.weight.T + bias
        return rep @ self.item.weight[candidates].T + bias[candidates]

    def forward(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Scores [N, I] of every item after the last event of each right-padded session."""
        rep, _ = self.encode(items)
        idx = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, rep.shape[2])
        return self.scores(rep.gather(1, idx).squeeze(1))

    def reset(self, state: State, keep: torch.Tensor) -> State:
        """The state with lanes where ``keep`` is False zeroed (a new session starts there), detached."""
        m = keep.view(1, -1, 1).to(torch.float32)
        if isinstance(state, tuple):
            return (state[0].detach() * m, state[1].detach() * m)
        return state.detach() * m


def sampled_logits(
    model: GRURec,
    rep: torch.Tensor,
    target: torch.Tensor,
    extra: torch.Tensor,
    log_count: torch.Tensor | None,
) -> torch.Tensor:
    """Logits [B, B + S] of the batch's targets (column i is row i's target) and ``extra`` samples; a
    candidate equal to the row's target elsewhere than its own column is masked (a false negative).
    ``log_count`` (per item): subtracted from the logits (logQ correction)."""
    cand = torch.cat([target, extra])
    logits = model.scores(rep, cand)
    if log_count is not None:
        logits = logits - log_count[cand]
    dup = cand.view(1, -1) == target.view(-1, 1)
    dup[torch.arange(target.numel()), torch.arange(target.numel())] = False
    return logits.masked_fill(dup, float("-inf"))


def xe_logq_loss(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the diagonal (each row's own target)."""
    return nn.functional.cross_entropy(logits, torch.arange(logits.shape[0]))


def bpr_max_loss(logits: torch.Tensor, reg: float = 1.0) -> torch.Tensor:
    """BPR-max: -log sum_j s_j sigmoid(r_i - r_j) + reg * sum_j s_j r_j^2, with s the softmax over the
    negatives' scores r_j (masked candidates excluded)."""
    n = logits.shape[0]
    pos = logits[torch.arange(n), torch.arange(n)].unsqueeze(1)
    neg_mask = torch.ones_like(logits, dtype=torch.bool)
    neg_mask[torch.arange(n), torch.arange(n)] = False
    neg_mask &= torch.isfinite(logits)
    neg = logits.masked_fill(~neg_mask, float("-inf"))
    s = torch.softmax(neg, dim=1)
    safe = torch.where(neg_mask, logits, torch.zeros_like(logits))
    gain = (s * torch.sigmoid(pos - safe)).sum(dim=1)
    return (-torch.log(gain + 1e-24) + reg * (s * safe.pow(2)).sum(dim=1)).mean()
