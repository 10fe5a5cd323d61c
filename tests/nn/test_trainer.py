"""The guarded training loop on tiny models: it learns, is deterministic, stops early with the best
weights, names the layer and step of a non-finite value, and diagnoses the fit."""

from __future__ import annotations

import math

import pytest
from tests.nn.conftest import accuracy, blobs, ce_loss, mlp, torch

from shopml.errors import ConfigError
from shopml.nn import FitConfig, NonFiniteError, fit

QUIET = {"progress": False, "threads": 1}


def test_fit_learns_and_reports(data) -> None:
    train, valid = data
    model = mlp()
    res = fit(model, ce_loss, train, valid, accuracy, FitConfig(epochs=8, lr=0.05, grad_every=2, **QUIET))
    assert res.best_metric > 0.9
    assert accuracy(model, valid) == pytest.approx(res.best_metric)  # best weights are in the model
    assert res.steps == 8 * len(train)
    assert res.gradients.steps[:3] == [1, 2, 4]
    assert list(res.gradients.layers) == ["0", "2"]  # layers in registration order, input first
    assert all(v > 0 for v in res.gradients.layers["0"])
    assert res.gradient_diagnosis.verdict == "healthy"
    assert {"train_loss", "valid_loss", "valid_metric", "lr", "seconds"} <= set(res.history[0])
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    assert res.to_dict()["gradient_diagnosis"]["verdict"] == "healthy"


def test_same_seed_same_weights(data) -> None:
    train, valid = data
    runs = []
    for _ in range(2):
        model = mlp(seed=3)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(*(torch.cat(t) for t in zip(*train, strict=True))),
            batch_size=16,
            shuffle=True,
        )
        fit(model, ce_loss, loader, valid, accuracy, FitConfig(epochs=3, seed=7, **QUIET))
        runs.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(runs[0], runs[1])


def test_early_stopping_restores_best_epoch(data) -> None:
    train, _ = data
    noisy_valid = blobs(64, seed=5, noise=3.0)
    model = mlp(width=64)
    cfg = FitConfig(epochs=30, lr=0.05, patience=2, schedule="constant", **QUIET)
    res = fit(model, ce_loss, train, noisy_valid, accuracy, cfg)
    assert res.stopped_early and len(res.history) < 30
    assert len(res.history) - res.best_epoch == 2  # patience epochs after the best
    assert accuracy(model, noisy_valid) == pytest.approx(res.best_metric)
    assert res.best_metric == max(res.curve("valid_metric"))


def test_nan_loss_names_the_layer_and_step(data) -> None:
    train, valid = data

    class Blow(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = torch.nn.Linear(4, 4)
            self.log = torch.nn.Identity()
            self.out = torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.out(torch.log(self.log(self.inp(x)) - 100.0))  # log of a negative number: NaN

    with pytest.raises(NonFiniteError, match=r"at step 1: the output of layer 'out'") as err:
        fit(Blow(), ce_loss, train, valid, accuracy, FitConfig(epochs=1, **QUIET))
    assert err.value.layer == "out" and err.value.step == 1


def test_exploding_gradient_stops_with_the_layer(data) -> None:
    train, valid = data
    model = mlp()
    with torch.no_grad():
        model[0].weight.mul_(1e30)
    cfg = FitConfig(epochs=2, lr=1.0, clip_norm=None, schedule="constant", **QUIET)
    with pytest.raises(NonFiniteError, match=r"(not finite|gradient norm is inf) .*at step \d+") as err:
        fit(model, ce_loss, train, valid, accuracy, cfg)
    assert err.value.layer in {"0", "2"}


def test_fit_diagnosis_overfit_and_underfit() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 30, generator=g)
    y = (x[:, 0] + torch.randn(96, generator=g) > 0).long()  # one weak signal among 30 columns
    train, valid = [(x[:24], y[:24])], [(x[24:], y[24:])]
    big = torch.nn.Sequential(torch.nn.Linear(30, 256), torch.nn.ReLU(), torch.nn.Linear(256, 2))
    cfg = FitConfig(epochs=40, lr=0.03, patience=None, chance=0.5, metric_name="accuracy", **QUIET)
    over = fit(big, ce_loss, train, valid, accuracy, cfg, train_eval=train).fit_diagnosis
    assert over is not None and over.verdict == "overfit", over
    assert "dropout" in over.remedy and over.metric == "accuracy"
    tiny = torch.nn.Sequential(torch.nn.Linear(30, 2))
    with torch.no_grad():
        tiny[0].weight.zero_()
    cfg = FitConfig(epochs=1, lr=1e-6, chance=0.5, **QUIET)
    under = fit(tiny, ce_loss, train, valid, accuracy, cfg, train_eval=train).fit_diagnosis
    assert under is not None and under.verdict == "underfit", under


def test_clipping_records_and_bounds_the_update(data) -> None:
    train, valid = data
    cfg = FitConfig(epochs=2, clip_norm=1e-3, grad_every=1, **QUIET)
    res = fit(mlp(), ce_loss, train, valid, accuracy, cfg)
    assert all(res.gradients.clipped)
    assert res.gradient_diagnosis.clipped_share == 1.0


def test_bad_settings_fail_early() -> None:
    with pytest.raises(ConfigError, match=r"schedule must be one of .* got 'linear'.*patience must be >= 1"):
        FitConfig(schedule="linear", patience=0)
    unsized = (b for b in blobs(32))
    with pytest.raises(ConfigError, match="sized iterable"):
        fit(mlp(), ce_loss, unsized, None, None, FitConfig(**QUIET))


def test_without_validation_trains_all_epochs(data) -> None:
    train, _ = data
    res = fit(mlp(), ce_loss, train, config=FitConfig(epochs=2, **QUIET))
    assert len(res.history) == 2 and res.fit_diagnosis is None and math.isnan(res.best_metric)
