"""Lazy re-exports for package ``__init__`` modules (PEP 562), so importing a package — or one small
module inside it — does not import every heavy library its siblings need."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first access of
    ``name`` and keeps the value in the package, so later look-ups cost nothing.

    >>> getattr_ = lazy_exports("shopml", {"ShopmlError": "shopml.errors"})
    >>> getattr_("ShopmlError").__name__
    'ShopmlError'
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
