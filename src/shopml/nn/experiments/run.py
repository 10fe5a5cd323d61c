"""Running every experiment and presenting them: the JSON summary, the HTML report, the console lines.

JSON shape: ``{"recurrent": [{"cell", "length", "grad_ratio", "accuracy", ...}], "exploding":
{"unclipped": {...}, "clipped": {...}}, "depth": [...], "overfitting": [...], "settings": {...}}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["Experiments", "run_experiments"]

QUICK: dict[str, Any] = {"lengths": (10, 50, 100), "hidden": 16, "steps": 40, "batch": 32}
FULL: dict[str, Any] = {"lengths": (10, 50, 100, 200), "hidden": 32, "steps": 300, "batch": 64}


@dataclass
class Experiments:
    """The four experiments' results (JSON-ready lists and mappings)."""

    recurrent: list[dict[str, Any]]
    exploding: dict[str, Any]
    depth: list[dict[str, Any]]
    overfitting: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (non-finite numbers as ``null``)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            return v

        return clean(
            {
                "recurrent": self.recurrent,
                "exploding": self.exploding,
                "depth": self.depth,
                "overfitting": self.overfitting,
                "settings": self.settings,
            }
        )

    def summary_lines(self) -> list[str]:
        """One line per finding."""
        lines = ["vanishing (grad ratio first/last step, accuracy):"]
        for r in self.recurrent:
            lines.append(
                f"  {r['cell']:>4} L={r['length']:<3} ratio {r['grad_ratio']:.3g}  "
                f"accuracy {r['accuracy']:.3f}"
            )
        u, c = self.exploding["unclipped"], self.exploding["clipped"]
        where = (
            f"diverged at step {u['diverged_at']} (layer '{u['layer']}')"
            if u["diverged_at"]
            else "did not diverge"
        )
        lines.append(
            f"exploding: unclipped {where}; clipped loss {c['first_loss']:.3g} -> {c['final_loss']:.3g}"
        )
        for d in self.depth:
            lines.append(
                f"depth {d['depth']} {d['model']:>10}: first/last grad ratio {d['grad_ratio']:.3g} "
                f"({d['gradients']})"
            )
        for o in self.overfitting:
            lines.append(
                f"overfitting {o['variant']:>14}: train {o['train_accuracy']:.3f} "
                f"valid {o['valid_accuracy']:.3f} "
                f"gap {o['gap']:+.1%} ({o['diagnosis']})"
            )
        return lines

    def to_html(self) -> str:
        """The report page: each experiment's table and plots (Plotly inlined once)."""
        import plotly.graph_objects as go

        from shopml.nn.report import figure_html

        vanish = go.Figure()
        for r in self.recurrent:
            vanish.add_scatter(
                x=r["steps"], y=r["grad_norms"], mode="lines+markers", name=f"{r['cell']} L={r['length']}"
            )
        vanish.update_layout(title="‖∂L/∂state_t‖ over steps t (after training)", xaxis_title="step t",
                             yaxis_title="gradient norm", yaxis_type="log")  # fmt: skip
        boom = go.Figure()
        for name, run in self.exploding.items():
            boom.add_scatter(y=run["losses"], mode="lines", name=name)
        boom.update_layout(title="Exploding: training loss per step", xaxis_title="step", yaxis_title="MSE",
                           yaxis_type="log")  # fmt: skip
        depth = go.Figure()
        for d in self.depth:
            norms = d["layer_norms"]
            depth.add_scatter(
                x=list(range(len(norms))), y=list(norms.values()), mode="lines+markers", name=d["model"]
            )
        depth.update_layout(title="Depth: median gradient norm per layer (input side first)",
                            xaxis_title="layer",
                            yaxis_title="gradient norm", yaxis_type="log")  # fmt: skip
        over = go.Figure()
        for o in self.overfitting:
            over.add_scatter(y=o["train_curve"], mode="lines", name=f"{o['variant']} train")
            over.add_scatter(
                y=o["valid_curve"], mode="lines", line={"dash": "dot"}, name=f"{o['variant']} valid"
            )
        over.update_layout(
            title="Overfitting: accuracy per epoch", xaxis_title="epoch", yaxis_title="accuracy"
        )

        def table(rows: list[dict[str, Any]], cols: list[str]) -> str:
            head = "".join(f"<th>{escape(c)}</th>" for c in cols)
            fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows
            )
            return f"<table><tr>{head}</tr>{body}</table>"

        ex_cols = ["clip_norm", "diverged_at", "layer", "first_loss", "final_loss"]
        ex = [{"run": k, **{c: v.get(c) for c in ex_cols}} for k, v in self.exploding.items()]
        parts = [
            "<h1>Training problems shown and cured</h1>",
            "<h2>Vanishing gradients in recurrent nets (latching task)</h2>",
            table(self.recurrent, ["cell", "length", "grad_ratio", "accuracy"]),
            figure_html(vanish, include_plotlyjs=True),
            "<h2>Exploding gradients: with and without norm clipping</h2>",
            table(ex, ["run", "clip_norm", "diverged_at", "layer", "first_loss", "final_loss"]),
            figure_html(boom),
            "<h2>Depth: plain vs batch norm vs residual</h2>",
            table(
                self.depth,
                ["model", "depth", "grad_ratio", "gradients", "final_train_accuracy", "final_valid_accuracy"],
            ),
            figure_html(depth),
            "<h2>Overfitting: dropout, augmentation, early stopping</h2>",
            table(
                self.overfitting,
                ["variant", "train_accuracy", "valid_accuracy", "gap", "epochs", "best_epoch", "diagnosis"],
            ),
            figure_html(over),
        ]
        style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 8px}"
        head = f"<head><meta charset='utf-8'><title>shopml nn gradients</title><style>{style}</style></head>"
        return "<!doctype html><html>" + head + "<body>" + "\n".join(parts) + "</body></html>"


def run_experiments(
    *, quick: bool = False, seed: int = 0, say: Callable[[str], None] = lambda _: None
) -> Experiments:
    """Run all four experiments (``quick``: small settings, seconds) with torch on one thread (the models
    are too small to gain from more; idle threads of a busy machine only spin)."""
    import torch

    from shopml.nn.experiments.recurrent import CELLS, run_recurrent
    from shopml.nn.experiments.training import run_depth, run_exploding, run_overfitting

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        s = QUICK if quick else FULL
        recurrent = []
        for length in s["lengths"]:
            for cell in CELLS:
                say(f"vanishing: {cell} at length {length}")
                r = run_recurrent(
                    cell, length, hidden=s["hidden"], steps=s["steps"], batch=s["batch"], seed=seed
                )
                recurrent.append(r.to_dict())
        say("exploding: with and without clipping")
        exploding = run_exploding(quick=quick, seed=seed)
        say("depth: plain, batch norm, residual")
        depth = run_depth(quick=quick, seed=seed)
        say("overfitting: dropout, augmentation, early stopping")
        over = run_overfitting(quick=quick, seed=seed)
    finally:
        torch.set_num_threads(old)
    settings = {
        "quick": quick,
        "seed": seed,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in s.items()},
    }
    return Experiments(recurrent, exploding, depth, over, settings)
