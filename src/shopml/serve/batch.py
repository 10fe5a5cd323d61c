"""A validated batch (:class:`Encoded`) and the two model-input blocks a micro-batch is built from.

Requests validated by the fast row path keep row-major Python values; a micro-batch turns the values of
all its requests into one float32 block and one string block with one array call per kind
(:func:`batch_block`). Requests from the general path carry their blocks already.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from shopml.serve.codecs import Codec

__all__ = ["Block", "Encoded", "batch_block", "concat_blocks", "feeds_of"]

#: The model inputs of a batch as two blocks: float32 [k, n] (numeric, boolean) and object [c, n] (strings).
Block = tuple[np.ndarray, np.ndarray]


def concat_blocks(blocks: list[Block]) -> Block:
    """Join the blocks of several requests along the row axis (two copies, whatever the feature count)."""
    return np.concatenate([b[0] for b in blocks], axis=1), np.concatenate([b[1] for b in blocks], axis=1)


def _block_of(frows: list[list[float]], srows: list[list[str]]) -> Block:
    """Row-major values of a batch → the two contiguous blocks (one array call per kind per batch)."""
    floats = np.ascontiguousarray(np.array(frows, dtype=np.float32).T)
    strings = np.ascontiguousarray(np.array(srows, dtype=object).T)
    return floats, strings


class Encoded:
    """A validated batch: the model inputs, the values to log, and what was served as unknown.

    The fast path keeps row-major values (``frows``, ``srows``) and the client's rows (``rows``, the
    log lines to be); the general path keeps column blocks and column lists. ``block`` and ``logged``
    are available either way.
    """

    __slots__ = ("_block", "_logged", "codec", "frows", "ids", "n", "rows", "srows", "times", "unseen")

    def __init__(
        self,
        n: int,
        codec: Codec,
        *,
        block: Block | None = None,
        logged: dict[str, list[Any]] | None = None,
        unseen: dict[str, int] | None = None,
        ids: list[Any] | None = None,
        times: list[datetime | None] | None = None,
        rows: list[dict[str, Any]] | None = None,
        frows: list[list[float]] | None = None,
        srows: list[list[str]] | None = None,
    ) -> None:
        self.n = n
        self.codec = codec
        self._block = block
        self._logged = logged
        self.unseen = unseen if unseen is not None else {}
        self.ids = ids
        self.times = times
        self.rows = rows
        self.frows = frows
        self.srows = srows

    @property
    def block(self) -> Block:
        """The model inputs as two column blocks."""
        if self._block is None:
            if self.frows is None or self.srows is None:
                raise RuntimeError("an Encoded batch holds neither blocks nor rows")
            self._block = _block_of(self.frows, self.srows)
        return self._block

    @property
    def logged(self) -> dict[str, list[Any]]:
        """Per input, the values as logged (numeric null as NaN)."""
        if self._logged is None:
            if self.rows is None:
                raise RuntimeError("an Encoded batch holds neither logged columns nor rows")
            self._logged = self.codec.logged_columns(self.rows)
        return self._logged

    @property
    def feeds(self) -> dict[str, np.ndarray]:
        """The ONNX feeds: one [n, 1] array per input."""
        return self.codec.feeds(self.codec.concat([self]))

    def finish(self, scores: Any) -> Any:
        """The answer from the model's output for this batch (feature rows: the output itself; see
        :class:`shopml.serve.session.SessionBatch`)."""
        return scores

    def cache_key(self) -> tuple[Any, ...]:
        """A hashable canonical form of the inputs (the same for /v1 rows and OIP tensors)."""
        return tuple(tuple(v) for v in self.logged.values())


def batch_block(parts: list[Encoded]) -> Block:
    """The model inputs of several requests as one block (the micro-batcher's ``concat``)."""
    if len(parts) == 1:
        return parts[0].block
    frows: list[list[float]] = []
    srows: list[list[str]] = []
    for p in parts:
        if p.frows is None or p.srows is None:
            return concat_blocks([q.block for q in parts])
        frows += p.frows
        srows += p.srows
    return _block_of(frows, srows)


def feeds_of(names: tuple[list[str], list[str]], block: Block) -> dict[str, np.ndarray]:
    """One contiguous [n, 1] view per input name."""
    floats, strings = block
    n = floats.shape[1] if floats.size else strings.shape[1]
    feeds = dict(zip(names[0], floats.reshape(len(names[0]), n, 1), strict=True))
    feeds.update(zip(names[1], strings.reshape(len(names[1]), n, 1), strict=True))
    return feeds
