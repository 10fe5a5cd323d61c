"""Neural networks on PyTorch (CPU): the guarded training loop and gradient diagnostics.

Importing this package does not import torch; each name loads its module on first use.
"""

from typing import TYPE_CHECKING

from shopml._lazy import lazy_exports

if TYPE_CHECKING:
    from shopml.nn.config import FitConfig
    from shopml.nn.fitcheck import FitResult, fit_diagnosis
    from shopml.nn.guard import (
        GradientDiagnosis,
        GradientLog,
        NonFiniteError,
        diagnose_gradients,
        layer_norms,
    )
    from shopml.nn.report import report_section
    from shopml.nn.schedule import LRRangeTest, lr_range_test, make_scheduler
    from shopml.nn.seed import deterministic, seed_everything
    from shopml.nn.trainer import evaluate_loss, fit

_EXPORTS = {
    "FitConfig": "shopml.nn.config",
    "FitResult": "shopml.nn.fitcheck",
    "fit_diagnosis": "shopml.nn.fitcheck",
    "GradientDiagnosis": "shopml.nn.guard",
    "GradientLog": "shopml.nn.guard",
    "NonFiniteError": "shopml.nn.guard",
    "diagnose_gradients": "shopml.nn.guard",
    "layer_norms": "shopml.nn.guard",
    "report_section": "shopml.nn.report",
    "LRRangeTest": "shopml.nn.schedule",
    "lr_range_test": "shopml.nn.schedule",
    "make_scheduler": "shopml.nn.schedule",
    "deterministic": "shopml.nn.seed",
    "seed_everything": "shopml.nn.seed",
    "evaluate_loss": "shopml.nn.trainer",
    "fit": "shopml.nn.trainer",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "FitConfig",
    "FitResult",
    "GradientDiagnosis",
    "GradientLog",
    "LRRangeTest",
    "NonFiniteError",
    "deterministic",
    "diagnose_gradients",
    "evaluate_loss",
    "fit",
    "fit_diagnosis",
    "layer_norms",
    "lr_range_test",
    "make_scheduler",
    "report_section",
    "seed_everything",
]
