"""Session-parallel batches, the GRU's losses and state resets, ONNX export with its parity check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopml.errors import ModelError
from shopml.recs.batching import NegativeSampler, session_parallel
from shopml.recs.data import Sessions
from shopml.recs.export import check_parity, export_onnx, padded
from shopml.recs.model import GRURec, bpr_max_loss, sampled_logits, xe_logq_loss

torch.set_num_threads(1)


def _sessions(lengths: list[int], n_items: int = 30, seed: int = 0) -> Sessions:
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    return Sessions(
        rng.integers(0, n_items, n), offsets, np.arange(n), np.zeros(n, np.int64), -np.ones(len(lengths))
    )


def test_session_parallel_reads_sessions_in_order() -> None:
    s = _sessions([3, 2, 5, 2, 4, 3, 2])
    s.item = np.arange(len(s.item))  # item = row, so pairs can be checked
    sid = s.session_of()
    seen = set()
    lanes_session = [-1, -1]
    for step in session_parallel(s, 2, np.random.default_rng(0)):
        assert (step.y == step.x + 1).all() and (sid[step.x] == sid[step.y]).all()
        for lane in range(2):
            if not step.keep[lane]:
                lanes_session[lane] = sid[step.x[lane]]  # a new session starts on a reset
            assert sid[step.x[lane]] == lanes_session[lane]
        seen.update(step.x.tolist())
    assert len(seen) >= 10


def test_sampler_follows_support_power() -> None:
    counts = np.array([1000, 10, 1])
    draws = np.concatenate(
        [NegativeSampler(counts, 0.5, 100, np.random.default_rng(1)).draw() for _ in range(50)]
    )
    share = np.bincount(draws, minlength=3) / draws.size
    expected = np.sqrt(counts) / np.sqrt(counts).sum()
    np.testing.assert_allclose(share, expected, atol=0.02)


def test_losses_mask_false_negatives_and_train() -> None:
    torch.manual_seed(0)
    model = GRURec(20, embedding=8, hidden=12)
    rep, state = model.encode(torch.tensor([[1], [2], [3]]))
    target = torch.tensor([5, 5, 7])
    extra = torch.tensor([5, 9])
    logits = sampled_logits(model, rep[:, 0], target, extra, None)
    assert torch.isinf(logits[0, 1]) and torch.isinf(logits[0, 3]) and torch.isfinite(logits[0, 0])
    assert torch.isfinite(logits[2, 3])
    for loss in (xe_logq_loss(logits), bpr_max_loss(logits)):
        assert torch.isfinite(loss)
        model.zero_grad()
        loss.backward(retain_graph=True)
        assert model.item.weight.grad is not None and model.item.weight.grad.abs().sum() > 0
    kept = model.reset(state, torch.tensor([True, False, True]))
    assert isinstance(kept, torch.Tensor) and (kept[0, 1] == 0).all() and (kept[0, 0] != 0).any()
    lstm = GRURec(20, embedding=8, hidden=12, cell="lstm")
    _, lstate = lstm.encode(torch.tensor([[1], [2]]))
    h, c = lstm.reset(lstate, torch.tensor([False, True]))
    assert (h[0, 0] == 0).all() and (c[0, 0] == 0).all()


def test_onnx_export_parity() -> None:
    torch.manual_seed(0)
    model = GRURec(40, embedding=8, hidden=12).eval()
    s = _sessions([4, 1, 7, 3, 2], n_items=40)
    items, lengths = padded(s, np.arange(s.n_sessions))
    raw = export_onnx(model)
    parity = check_parity(raw, model, items, lengths, k=10)
    assert parity.topk_identical and parity.max_abs_diff < 1e-4 and parity.sessions == 5
    # the served output after the last event equals the scores read at that position
    with torch.no_grad():
        rep, _ = model.encode(torch.from_numpy(items[2:3, :7]))
        np.testing.assert_allclose(
            model.scores(rep[:, -1]).numpy(),
            model(torch.from_numpy(items[2:3]), torch.tensor([7])).numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
    other = GRURec(40, embedding=8, hidden=12).eval()
    with pytest.raises(ModelError, match="parity check failed"):
        check_parity(raw, other, items, lengths, k=10)


def test_lstm_exports_with_parity() -> None:
    torch.manual_seed(1)
    model = GRURec(40, embedding=8, hidden=12, cell="lstm").eval()
    s = _sessions([4, 1, 7, 3], n_items=40, seed=2)
    items, lengths = padded(s, np.arange(s.n_sessions))
    assert check_parity(export_onnx(model), model, items, lengths, k=10).topk_identical
