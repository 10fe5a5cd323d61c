"""Gradient norms per layer and the vanishing/exploding diagnosis, with its numbers."""

from __future__ import annotations

import pytest
from tests.nn.conftest import accuracy, ce_loss, torch

from shopml.nn import FitConfig, GradientLog, diagnose_gradients, fit, layer_norms


def test_layer_norms_group_by_module() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    norms = layer_norms(model.named_parameters())
    assert list(norms) == ["0", "1"]
    assert norms["0"] == pytest.approx(6**0.5)  # 4 weights + 2 biases
    assert norms["1"] == pytest.approx(3**0.5)


def test_rule_states_numbers() -> None:
    log = GradientLog(every=1)
    for s in range(1, 4):
        log.record(s, {"a": 0.5, "b": 0.4}, 0.6, False)
    ok = diagnose_gradients(log)
    assert ok.verdict == "healthy" and ok.ratio == pytest.approx(1.25)
    boom = GradientLog(every=1)
    boom.record(1, {"a": 1.0}, 1.0, False)
    boom.record(2, {"a": 500.0}, 500.0, True)
    d = diagnose_gradients(boom)
    assert d.verdict == "exploding" and "grew 500×" in d.rule and d.clipped_share == 0.5
    assert "clip the gradient norm" in d.remedy


def test_deep_sigmoid_stack_vanishes_and_batch_norm_cures_it() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=g)
    y = (x.sum(1) > 0).long()
    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]

    def stack(norm: bool):
        torch.manual_seed(0)
        layers: list[torch.nn.Module] = []
        for _ in range(12):
            layers += [torch.nn.Linear(8, 8)]
            layers += [torch.nn.BatchNorm1d(8)] if norm else []
            layers += [torch.nn.Sigmoid()]
        return torch.nn.Sequential(*layers, torch.nn.Linear(8, 2))

    cfg = FitConfig(epochs=1, grad_every=1, clip_norm=None, progress=False, threads=1)
    plain = fit(stack(False), ce_loss, batches, batches, accuracy, cfg).gradient_diagnosis
    normed = fit(stack(True), ce_loss, batches, batches, accuracy, cfg).gradient_diagnosis
    assert plain.verdict == "vanishing", plain.summary()
    assert normed.ratio > 100 * plain.ratio
    assert "first/last layer norm ratio" in plain.rule and "batch norm" in plain.remedy
