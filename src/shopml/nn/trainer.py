"""The guarded training loop: one small function for any PyTorch model.

``fit(model, loss_fn, train, valid, metric, config)`` trains with AdamW (or the optimiser you build) on a
per-batch schedule, clips the gradient norm, records per-layer gradient norms every ``grad_every`` steps,
stops on a NaN or infinite loss, gradient or weight naming the layer and the step, evaluates the
validation metric each epoch, stops early with the best weights restored, and diagnoses both the
gradients (:mod:`shopml.nn.guard`) and the fit (the tabular models' rule, :mod:`shopml.nn.fitcheck`).

>>> import torch
>>> from shopml.nn import FitConfig, fit
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.randn(64, 2, generator=g); y = (x[:, 0] > 0).long()
>>> batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
>>> def loss_fn(model, batch):
...     xb, yb = batch
...     return torch.nn.functional.cross_entropy(model(xb), yb)
>>> def accuracy(model, data):
...     return float(sum((model(xb).argmax(1) == yb).sum() for xb, yb in data) / 64)
>>> model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
>>> result = fit(model, loss_fn, batches, batches, accuracy,
...              FitConfig(epochs=20, lr=0.05, grad_every=2, progress=False, chance=0.5),
...              train_eval=batches)
>>> result.best_metric > 0.9, result.gradient_diagnosis.verdict
(True, 'healthy')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sized
from typing import TYPE_CHECKING, Any

from shopml.errors import ConfigError
from shopml.nn.config import FitConfig
from shopml.nn.fitcheck import FitResult, fit_diagnosis
from shopml.nn.guard import GradientLog, NonFiniteError, diagnose_gradients, first_nonfinite, layer_norms
from shopml.nn.schedule import make_scheduler
from shopml.nn.seed import deterministic

if TYPE_CHECKING:
    import torch

__all__ = ["LossFn", "MetricFn", "evaluate_loss", "fit"]

LossFn = Callable[["torch.nn.Module", Any], "torch.Tensor"]
MetricFn = Callable[["torch.nn.Module", Iterable[Any]], float]


def evaluate_loss(model: torch.nn.Module, loss_fn: LossFn, data: Iterable[Any]) -> float:
    """Mean batch loss over ``data`` in evaluation mode, without gradients."""
    import torch

    was = model.training
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for batch in data:
            total += float(loss_fn(model, batch))
            n += 1
    model.train(was)
    return total / n if n else math.nan


def _evaluate(model: torch.nn.Module, metric: MetricFn, data: Iterable[Any]) -> float:
    import torch

    was = model.training
    model.eval()
    with torch.no_grad():
        value = float(metric(model, data))
    model.train(was)
    return value


def _forward_culprit(model: torch.nn.Module, loss_fn: LossFn, batch: Any) -> str | None:
    """Re-run the forward pass with hooks: the first module whose output is not finite."""
    import torch

    names = {m: n for n, m in model.named_modules() if n}
    found: list[str] = []

    def hook(module: torch.nn.Module, _inp: Any, out: Any) -> None:
        outs = out if isinstance(out, tuple) else (out,)
        for t in outs:
            floating = isinstance(t, torch.Tensor) and t.is_floating_point()
            if not found and floating and not bool(torch.isfinite(t).all()):
                found.append(names[module])

    handles = [m.register_forward_hook(hook) for m in names]
    try:
        with torch.no_grad():
            loss_fn(model, batch)
    finally:
        for h in handles:
            h.remove()
    return found[0] if found else None


def _check_loss(model: torch.nn.Module, loss_fn: LossFn, batch: Any, value: float, step: int) -> None:
    if math.isfinite(value):
        return
    bad = first_nonfinite(model.named_parameters(), grads=False)
    if bad is not None:
        layer, where = bad.rsplit(".", 1)[0], f"weight '{bad}' is not finite"
    else:
        layer = _forward_culprit(model, loss_fn, batch) or "loss"
        where = f"the output of layer '{layer}' is not finite" if layer != "loss" else "the loss itself"
    raise NonFiniteError(
        f"loss is {value} at step {step}: {where}; lower the learning rate, clip the gradient norm "
        "or check the inputs",
        layer=layer,
        step=step,
    )


def _gradient_error(model: Any, step: int, epoch: int, loss: float, total: float) -> NonFiniteError:
    """A non-finite gradient, or a finite one whose norm overflows: name the parameter or layer."""
    bad = first_nonfinite(model.named_parameters())
    if bad is not None:
        layer, what = bad.rsplit(".", 1)[0], f"gradient of '{bad}' is not finite"
    else:
        norms = layer_norms(model.named_parameters())
        layer = max(norms, key=lambda k: norms[k])
        what = f"gradient norm is {total} (largest in layer '{layer}': {norms[layer]:.3g})"
    return NonFiniteError(
        f"{what} at step {step} (epoch {epoch}, loss {loss:.4g}); lower the learning rate or clip the "
        "gradient norm",
        layer=layer,
        step=step,
    )


def _steps_per_epoch(train: Iterable[Any], schedule: str) -> int:
    if isinstance(train, Sized):
        return len(train)
    if schedule != "constant":
        raise ConfigError(
            f"schedule {schedule!r} needs the number of batches per epoch: pass a sized iterable (a list "
            "or a DataLoader) as train, or use schedule='constant'"
        )
    return 0


def fit(
    model: torch.nn.Module,
    loss_fn: LossFn,
    train: Iterable[Any],
    valid: Iterable[Any] | None = None,
    metric: MetricFn | None = None,
    config: FitConfig | None = None,
    *,
    train_eval: Iterable[Any] | None = None,
    optimizer: Callable[[Any], torch.optim.Optimizer] | None = None,
) -> FitResult:
    """Train ``model`` in place and return the :class:`FitResult` (history, gradient log, diagnoses).

    ``loss_fn(model, batch)`` returns the scalar loss of a batch; ``train`` and ``valid`` are re-iterable
    batch sources (a list, a DataLoader); ``metric(model, data)`` the validation metric over an iterable
    (run in evaluation mode without gradients; without one, early stopping watches the validation loss);
    ``train_eval`` training batches for the same metric (needed for the fit diagnosis); ``optimizer``
    builds the optimiser from the parameters (default AdamW with ``config.weight_decay``).
    """
    import torch

    cfg = config or FitConfig()
    with deterministic(cfg.seed, cfg.threads):
        return _run(model, loss_fn, train, valid, metric, cfg, train_eval, optimizer, torch)


def _run(
    model: Any,
    loss_fn: LossFn,
    train: Iterable[Any],
    valid: Iterable[Any] | None,
    metric: MetricFn | None,
    cfg: FitConfig,
    train_eval: Iterable[Any] | None,
    optimizer: Callable[[Any], Any] | None,
    torch: Any,
) -> FitResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    per_epoch = _steps_per_epoch(train, cfg.schedule)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = (optimizer or (lambda ps: torch.optim.AdamW(ps, lr=cfg.lr, weight_decay=cfg.weight_decay)))(params)
    sched = make_scheduler(opt, cfg.schedule, cfg.epochs * per_epoch, cfg.lr, cfg.warmup)
    watch_metric = metric is not None and valid is not None
    mode = cfg.mode if watch_metric else "min"
    sign = 1.0 if mode == "max" else -1.0
    grads = GradientLog(every=cfg.grad_every)
    history: list[dict[str, float]] = []
    best, best_epoch, best_state, bad_epochs, step = -math.inf, 0, None, 0, 0
    stopped = False
    start = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, disable=not cfg.progress, transient=True) as bar:
        task = bar.add_task("epoch 1", total=cfg.epochs * per_epoch or None)
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            t0, losses = time.perf_counter(), []
            for batch in train:
                step += 1
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model, batch)
                value = float(loss.detach())
                _check_loss(model, loss_fn, batch, value, step)
                loss.backward()
                record = step % cfg.grad_every == 0 or step == 1
                norms = layer_norms(model.named_parameters()) if record else {}
                grads_of = [p.grad for p in params if p.grad is not None]
                if cfg.clip_norm is not None:
                    total = float(torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm))
                else:
                    total = float(torch.nn.utils.get_total_norm(grads_of)) if grads_of else 0.0
                if not math.isfinite(total):
                    raise _gradient_error(model, step, epoch, value, total)
                if record:
                    grads.record(step, norms, total, cfg.clip_norm is not None and total > cfg.clip_norm)
                opt.step()
                if per_epoch:
                    sched.step()
                losses.append(value)
                bar.update(task, advance=1, description=f"epoch {epoch}/{cfg.epochs} loss {value:.4f}")
            row: dict[str, float] = {
                "epoch": epoch,
                "train_loss": sum(losses) / max(1, len(losses)),
                "lr": float(opt.param_groups[0]["lr"]),
            }
            if valid is not None and (cfg.valid_loss or not watch_metric):
                row["valid_loss"] = evaluate_loss(model, loss_fn, valid)
            if metric is not None and valid is not None:
                row["valid_metric"] = _evaluate(model, metric, valid)
                if train_eval is not None:
                    row["train_metric"] = _evaluate(model, metric, train_eval)
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            watched = row.get("valid_metric", row.get("valid_loss", -row["train_loss"]))
            if valid is None:
                continue
            if not math.isfinite(watched):
                raise NonFiniteError(
                    f"validation {cfg.metric_name} is {watched} after epoch {epoch}",
                    layer="metric",
                    step=step,
                )
            if sign * watched > best + cfg.min_delta:
                best, best_epoch, bad_epochs = sign * watched, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
                if cfg.patience is not None and bad_epochs >= cfg.patience:
                    stopped = epoch < cfg.epochs
                    break
    if best_state is not None and cfg.restore_best:
        model.load_state_dict(best_state)
    elif best_state is None or not cfg.restore_best:
        best_epoch = len(history)
    return FitResult(
        config=cfg,
        history=history,
        gradients=grads,
        gradient_diagnosis=diagnose_gradients(grads),
        fit_diagnosis=fit_diagnosis(history, best_epoch, cfg) if watch_metric else None,
        best_epoch=best_epoch,
        best_metric=(sign * best if cfg.restore_best else history[-1].get("valid_metric", math.nan))
        if best_state is not None
        else math.nan,
        stopped_early=stopped,
        steps=step,
        seconds=time.perf_counter() - start,
    )
