"""Fixed-width string ids equal the obvious Python formatting, on every code path."""

from __future__ import annotations

import numpy as np
import pytest

from shopml.simulate.io import fixed_ids


@pytest.mark.parametrize(("prefix", "width"), [("tx", 10), ("c", 9), ("o", 10), ("abc", 6), ("xy", 1)])
def test_fixed_ids_match_zfill(prefix: str, width: int) -> None:
    rng = np.random.default_rng(width)
    ordinals = rng.integers(0, 10**width, 2000)
    ordinals[:3] = [0, 10**width - 1, 7]
    assert fixed_ids(prefix, ordinals, width).to_pylist() == [prefix + str(o).zfill(width) for o in ordinals]


def test_fixed_ids_beyond_32_bits_and_empty() -> None:
    big = np.array([2**33 + 5, 1])
    assert fixed_ids("tx", big, 10).to_pylist() == ["tx8589934597", "tx0000000001"]
    assert fixed_ids("tx", np.array([], np.int64), 10).to_pylist() == []
