"""Schedules and the LR range test."""

from __future__ import annotations

import itertools

import pytest
from tests.nn.conftest import blobs, ce_loss, mlp, torch

from shopml.errors import ConfigError
from shopml.nn import lr_range_test, make_scheduler


def _lrs(name: str, steps: int = 20) -> list[float]:
    opt = torch.optim.SGD(mlp().parameters(), lr=0.1)
    sched = make_scheduler(opt, name, steps, 0.1)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_one_cycle_warms_up_then_anneals() -> None:
    lrs = _lrs("one_cycle")
    peak = max(range(len(lrs)), key=lrs.__getitem__)
    assert 0 < peak < len(lrs) - 1 and lrs[peak] == pytest.approx(0.1, rel=0.05)
    assert lrs[0] < 0.01 and lrs[-1] < 0.01


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 8, 9, 10, 39])
@pytest.mark.parametrize("warmup", [0.1, 0.25])
def test_one_cycle_with_few_steps_never_divides_by_zero(steps: int, warmup: float) -> None:
    """(steps + 1) x warm-up of exactly 1 (9 steps at 0.1, 3 at 0.25) ended PyTorch's warm-up on step 0."""
    opt = torch.optim.SGD(mlp().parameters(), lr=0.1)
    sched = make_scheduler(opt, "one_cycle", steps, 0.1, warmup=warmup)
    for _ in range(steps):
        opt.step()
        sched.step()
        assert 0 < opt.param_groups[0]["lr"] <= 0.1


def test_cosine_and_constant() -> None:
    cos = _lrs("cosine")
    assert cos[0] == pytest.approx(0.1) and all(a >= b for a, b in itertools.pairwise(cos))
    assert set(_lrs("constant")) == {0.1}
    with pytest.raises(ConfigError, match="schedule must be one of"):
        _lrs("step")


def test_range_test_suggests_a_working_rate_and_leaves_the_model() -> None:
    model = mlp()
    before = [p.detach().clone() for p in model.parameters()]
    found = lr_range_test(
        model, ce_loss, blobs(128), lambda ps: torch.optim.SGD(ps, lr=1.0), min_lr=1e-4, max_lr=10, steps=60
    )
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert 1e-3 < found.suggestion < 5, found
    assert len(found.lrs) == len(found.losses) >= 10
    with pytest.raises(ConfigError, match="min_lr < max_lr"):
        lr_range_test(model, ce_loss, blobs(32), torch.optim.SGD, min_lr=1, max_lr=0.1)
