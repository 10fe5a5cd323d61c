"""Which input codec serves a bundle: the one its input layout names.

The layout is ``bundle.json``'s ``input_type`` when set, else the model kind's ``input_layout``, else
``rows``. Feature rows (``rows``, every tabular kind) go through :class:`~shopml.serve.codec.InputCodec`;
browsing sessions (``session``, the ``ranking`` kind) through :class:`~shopml.serve.session.SessionCodec`;
product photos (``image``) and texts (``text``) through the codecs in :mod:`shopml.serve.image` and
:mod:`shopml.serve.text`. Each codec module is imported only when a bundle needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from shopml.errors import ConfigError
from shopml.kinds import get_kind

if TYPE_CHECKING:
    import numpy as np

    from shopml.registry.bundle import ModelBundle
    from shopml.serve.batch import Encoded

__all__ = ["DEFAULT_MAX_K", "LAYOUTS", "Codec", "codec_for", "layout_of"]

#: The most items a ranking request may ask for, unless the server's settings say otherwise.
DEFAULT_MAX_K = 100

#: Input layout → ``module:class`` of its codec; every codec is built as ``cls(bundle, max_k=...)``.
LAYOUTS: Mapping[str, str] = {
    "rows": "shopml.serve.codec:InputCodec",
    "session": "shopml.serve.session:SessionCodec",
    "image": "shopml.serve.image:ImageCodec",
    "text": "shopml.serve.text:TextCodec",
}


class Codec(Protocol):
    """What the data plane and the protocol layers read from an input codec."""

    layout: str
    v1_keys: frozenset[str]
    log_types: Mapping[str, str]
    matrix: frozenset[str]
    names: list[str]
    kinds: dict[str, str]
    extras: frozenset[str]
    id_column: str | None
    time_column: str | None

    @property
    def log_kinds(self) -> dict[str, str]: ...

    def encode_rows(self, rows: list[Any], params: Any = None) -> Encoded: ...

    def encode_columns(self, n: int, columns: dict[str, list[Any]], params: Any = None) -> Encoded: ...

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]: ...

    def concat(self, parts: list[Any]) -> Any: ...

    def feeds(self, block: Any) -> dict[str, np.ndarray]: ...

    def ort_types(self) -> dict[str, str] | None: ...

    @property
    def warm_feeds(self) -> Any: ...

    def input_metadata(self) -> list[dict[str, Any]]: ...

    def parameters_metadata(self) -> dict[str, Any]: ...


def layout_of(bundle: ModelBundle) -> str:
    """The input layout ``bundle`` is served with."""
    declared = getattr(bundle.meta, "input_type", None)
    return str(declared or get_kind(bundle.meta.kind).input_layout)


def codec_for(bundle: ModelBundle, max_k: int = DEFAULT_MAX_K) -> Codec:
    """The input codec of ``bundle`` (``max_k``: the most items a ranking request may ask for)."""
    layout = layout_of(bundle)
    target = LAYOUTS.get(layout)
    if target is None:
        raise ConfigError(
            f"model '{bundle.meta.name}' has input layout '{layout}' (bundle.json 'input_type'); "
            f"known: {sorted(LAYOUTS)}"
        )
    module, _, cls = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"input layout '{layout}' needs {target}, which cannot be loaded: {exc}") from exc
    codec: Codec = factory(bundle, max_k=max_k)
    return codec
