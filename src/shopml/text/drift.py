"""Text drift: words frequent in production that the training texts rarely or never used.

The server logs every text (:mod:`shopml.serve.text`); the training run saved how often each word
occurred in held-out texts (:mod:`shopml.text.reference`). The ``new_tokens`` test of the drift
registry compares the two word counts: a word is a **new frequent word** when the current window uses it
at least ``MIN_COUNT`` times and for at least ``MIN_SHARE`` of its words, and at least ``RATIO`` times as
often as the reference (whose share is smoothed: ``(count + 0.5) / (words + 1)``, so an absent word has a
small positive share). The statistic and effect size are the share of the window's words taken by new
frequent words (minus their reference share); relevant from ``default_threshold`` (0.5 % of the words).
The p-value is the smallest one-sided two-proportion z test of a candidate word, Bonferroni-corrected
over every distinct word of the window.

The embedding (MMD) and the text length (KS) are tested by
:func:`shopml.monitor.drift.embedding.sample_drift` from ``reference_sample.npz``; :func:`text_drift`
adds the ``new_tokens`` check of the logged ``text`` column, naming the words, and the rise of the share
of texts holding an unknown token (``share_rise``: most texts hold none, so the rate's distribution is a
spike at 0 that a KS distance in standard deviations reads badly).

>>> from shopml.profile.sketch import CategoricalSketch
>>> ref = ColumnData(CategoricalSketch(counts={"red": 500, "dress": 500, "bag": 1000}))
>>> cur = ColumnData(CategoricalSketch(counts={"red": 450, "dress": 500, "bag": 900, "glowcore": 150}))
>>> s = NewTokens().score(ref, cur)
>>> round(s.effect_size, 3), s.p_value < 1e-6
(0.075, True)
>>> new_words(ref.sketch.counts, cur.sketch.counts)[0][0]
'glowcore'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from shopml.monitor.drift.registry import ColumnData, DriftTest, TestScore, empty, register
from shopml.profile.sketch import CategoricalSketch

if TYPE_CHECKING:
    from shopml.logstore import PredictionLog
    from shopml.monitor.drift.config import DriftConfig
    from shopml.monitor.drift.outputs import OutputCheck
    from shopml.registry import ModelBundle

__all__ = ["MIN_COUNT", "MIN_SHARE", "RATIO", "TOKENS", "NewTokens", "new_words", "text_drift"]

#: The column kind of word counts.
TOKENS = "tokens"
MIN_COUNT = 5
MIN_SHARE = 0.002
RATIO = 10.0
UNKNOWN = "unknown_token_rate"
#: Texts of a window whose words are counted (a random subsample above).
MAX_TEXTS = 20_000
#: New words named in a check's note.
SHOWN = 5

NewWord = tuple[str, float, float, float]  # word, current share, reference share, one-sided p-value


def new_words(
    ref: Mapping[str, int],
    cur: Mapping[str, int],
    *,
    min_count: int = MIN_COUNT,
    min_share: float = MIN_SHARE,
    ratio: float = RATIO,
) -> list[NewWord]:
    """The new frequent words of ``cur`` against ``ref`` (word counts), most frequent first."""
    from shopml.stats.special import normal_sf

    nr, nc = sum(ref.values()), sum(cur.values())
    if nc == 0:
        return []
    out: list[NewWord] = []
    for word, c in cur.items():
        pc = c / nc
        pr = (ref.get(word, 0) + 0.5) / (nr + 1)
        if c < min_count or pc < min_share or pc < ratio * pr:
            continue
        se = math.sqrt(pr * (1 - pr) / (nr + 1) + pc * (1 - pc) / nc)
        p = normal_sf((pc - pr) / se) if se > 0 else 0.0
        out.append((word, pc, ref.get(word, 0) / nr if nr else 0.0, p))
    return sorted(out, key=lambda w: (-w[1], w[0]))


@register
class NewTokens(DriftTest):
    """The share of the window's words that are new frequent words (word counts on both sides)."""

    name = "new_tokens"
    kinds = frozenset({TOKENS})
    uses_p_value = False
    default_threshold = 0.005
    description = "share of words frequent now and rare or absent in the reference (Bonferroni z tests)"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, 1.0, "exact", None
        a, b = ref.sketch, cur.sketch
        if not isinstance(a, CategoricalSketch) or not isinstance(b, CategoricalSketch):
            raise TypeError("new_tokens compares two word counts (categorical sketches)")
        found = new_words(a.counts, b.counts)
        if not found:
            return 0.0, 1.0, "exact", None
        share = sum(pc - pr for _, pc, pr, _ in found)
        p = min(1.0, min(w[3] for w in found) * len(b.counts))
        return max(share, 0.0), p, "exact", None

    def score(self, ref: ColumnData, cur: ColumnData) -> TestScore:
        """The share is its own effect size (no borrowed categorical test)."""
        stat, p, method, bound = self.statistic(ref, cur)
        return TestScore(stat, 1.0 if p is None else p, stat, method, bound)


def text_drift(
    log: PredictionLog,
    bundle: ModelBundle,
    start: datetime,
    end: datetime,
    config: DriftConfig | None = None,
) -> list[OutputCheck]:
    """The ``new_tokens`` check of the logged ``text`` over ``[start, end)`` against the bundle's
    ``text_reference.json``; nothing for a bundle without one or a log without texts."""
    from shopml.monitor.drift.config import DriftConfig
    from shopml.monitor.drift.outputs import OutputCheck
    from shopml.text.reference import load_text_reference, word_counts

    ref_doc = load_text_reference(bundle.path)
    if ref_doc is None or "text" not in log.columns or log.count(start, end) == 0:
        return []
    cfg = config or DriftConfig()
    texts = [t for t in log.read(start, end, ["text"]).column("text").to_pylist() if t is not None]
    if len(texts) > MAX_TEXTS:  # a random subsample bounds the cost (~20 µs a text)
        rng = np.random.default_rng(cfg.seed)
        texts = [texts[i] for i in np.sort(rng.choice(len(texts), MAX_TEXTS, replace=False))]
    if len(texts) < cfg.min_rows:
        note = f"fewer than {cfg.min_rows} texts"
        return [
            OutputCheck("text", NewTokens.name, "insufficient_data", ref_doc["texts"], len(texts), note=note)
        ]
    ref_counts = {str(k): int(v) for k, v in ref_doc["word_counts"].items()}
    ref = CategoricalSketch(counts=ref_counts)
    tokenizer = bundle.path / str((bundle.meta.model_extra or {}).get("tokenizer") or "tokenizer.json")
    cur = CategoricalSketch(counts=dict(word_counts(tokenizer, texts)))
    s = NewTokens().score(ColumnData(ref), ColumnData(cur))
    drifted = s.p_value < cfg.alpha and s.effect_size >= NewTokens.default_threshold
    found = new_words(ref.counts, cur.counts)
    shown = ", ".join(f"'{w}' {pc:.2%} (reference {pr:.2%})" for w, pc, pr, _ in found[:SHOWN])
    note = f"new frequent words: {shown}" if found else "no new frequent word"
    verdict = "drift" if drifted else "ok"
    checks = [
        OutputCheck(
            "text", NewTokens.name, verdict, ref.count, cur.count, s.statistic, s.p_value, s.effect_size, note
        )
    ]
    if "unknown_token_rate" in log.columns:
        rates = log.read(start, end, ["unknown_token_rate"]).column("unknown_token_rate").drop_null()
        checks.append(_unknown_check(ref_doc, rates.to_numpy(zero_copy_only=False).astype(np.float64), cfg))
    return checks


def _unknown_check(ref_doc: dict[str, Any], rates: np.ndarray, cfg: DriftConfig) -> OutputCheck:
    """The rise of the share of texts holding an unknown token (``share_rise``)."""
    from shopml.monitor.drift.outputs import OutputCheck
    from shopml.monitor.drift.registry import get_test
    from shopml.profile.sketch import NumericSketch

    n, k = int(ref_doc["texts"]), int(ref_doc.get("texts_with_unknown", 0))
    ref = np.r_[np.ones(k), np.zeros(max(n - k, 0))]
    cur = (rates > 0).astype(np.float64)
    test = get_test("share_rise")
    if min(ref.size, cur.size) < cfg.min_rows:
        note = f"fewer than {cfg.min_rows} texts"
        return OutputCheck(
            "unknown_token_rate", test.name, "insufficient_data", ref.size, cur.size, note=note
        )
    s = test.score(ColumnData(NumericSketch.from_values(ref)), ColumnData(NumericSketch.from_values(cur)))
    drifted = s.p_value < cfg.alpha and s.effect_size >= test.default_threshold
    note = (
        f"texts with an unknown token: {cur.mean():.1%} (reference {ref.mean():.1%}); mean unknown-token"
        f" rate {rates.mean():.2%} (reference {float(ref_doc.get('unknown_token_rate', 0.0)):.2%})"
    )
    return OutputCheck(
        "unknown_token_rate",
        test.name,
        "drift" if drifted else "ok",
        ref.size,
        cur.size,
        s.statistic,
        s.p_value,
        s.effect_size,
        note,
    )
