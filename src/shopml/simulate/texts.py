"""The shop's texts: product titles and descriptions, reviews with a rating and a return reason, and search
queries with an intent, written per day under ``texts/products``, ``texts/reviews`` and ``texts/queries``.

Texts are built from templates and the vocabulary of :mod:`shopml.simulate.texts_vocab`: brands,
attributes, sizes, colours and materials per category, with the markets' languages mixed in (a text in
a market's language has most of its colour, audience and shop words in that language), abbreviations
(``blk``, ``w/``, ``sz``), misspellings (a dropped, doubled or swapped letter) and lower-cased titles.

A share ``TEST_SHARE`` of the rows is the **held-out test split** (``split == "test"``): they use only
templates never used in training, products and brands never seen in training and, half the time, unseen
attributes, materials and sizes, so that a score on them measures generalisation rather than template
matching. Scenarios (from the onset day):

* ``new_category`` — a new product line (pet supplies) takes the scenario's share of new texts;
* ``language_mix`` — the language mix moves towards Polish, Italian and Dutch;
* ``new_slang`` — a new slang term (``glowcore ✨``) appears in that share of texts.

Same seed, same bytes.

>>> import random
>>> g = TextGen(random.Random(0), TextEffects())
>>> row = g.product(held_out=False)
>>> sorted(row)
['category', 'description', 'language', 'template', 'title']
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopml.errors import DataError
from shopml.simulate.catalog import PRODUCT_CATEGORIES
from shopml.simulate.io import TS, PartitionWriter, epoch_us, fixed_ids
from shopml.simulate.params import SimulationParams
from shopml.simulate.texts_vocab import (
    ABBREVIATIONS,
    AUDIENCES,
    CATEGORY_VOCAB,
    COLOURS,
    DESCRIPTION_TEMPLATES,
    INTENTS,
    LANGUAGES,
    NEW_LINE,
    NEW_SLANG,
    RETURN_REASONS,
    TITLE_TEMPLATES,
    TRANSLATIONS,
    Vocab,
)

__all__ = [
    "TEST_SHARE",
    "TEXT_SCENARIOS",
    "TEXT_TABLES",
    "TextEffects",
    "TextGen",
    "TextStream",
    "text_drift_events",
    "text_effects",
]

TEST_SHARE = 0.2
TEXT_TABLES = ("products", "reviews", "queries")
TEXT_SCENARIOS = ("new_category", "language_mix", "new_slang")
_COMMON = {"id": pa.string(), "event_time": TS}
_COLUMNS = {
    "products": ["title", "description", "category"],
    "reviews": ["text", "category", "rating", "return_reason"],
    "queries": ["text", "intent"],
}
_TAIL = ["language", "template", "split"]
_ID = {"products": "product_id", "reviews": "review_id", "queries": "query_id"}
_PREFIX = {"products": "pt", "reviews": "rv", "queries": "qy"}
_CATS = [c.name for c in PRODUCT_CATEGORIES]
_CAT_W = np.sqrt([c.weight for c in PRODUCT_CATEGORIES])  # flattened: small categories keep some texts
_CAT_CUM = np.cumsum(_CAT_W / _CAT_W.sum()).tolist()
_REASON_W = [0.4] + [0.1] * (len(RETURN_REASONS) - 1)
_INTENT_W = [0.4] + [0.12] * (len(INTENTS) - 1)
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class TextEffects:
    """What the scenario does to one day's texts."""

    new_line_share: float = 0.0
    language_shift: float = 0.0  # 0 = the markets' mix, 1 = mostly Polish, Italian, Dutch
    slang_share: float = 0.0


def text_effects(p: SimulationParams, day: int) -> TextEffects:
    """The scenario's effect on ``day``'s texts (0-based): constant from the onset to the window's end."""
    onset = p.onset or 0
    active = day >= onset and (p.length is None or day < onset + p.length)
    m = min(float(p.magnitude or 0.0), 0.9)
    if not active:
        return TextEffects()
    if p.scenario == "new_category":
        return TextEffects(new_line_share=m)
    if p.scenario == "language_mix":
        return TextEffects(language_shift=m)
    if p.scenario == "new_slang":
        return TextEffects(slang_share=m)
    return TextEffects()


class TextGen:
    """Draws one text at a time from a seeded ``random.Random`` (much cheaper than NumPy per scalar)."""

    def __init__(self, r: random.Random, eff: TextEffects) -> None:
        self.r, self.eff = r, eff
        base = [LANGUAGES[k] for k in LANGUAGES]
        shift = {"pl": 0.5, "it": 0.3, "nl": 0.2}
        w = [
            (1 - eff.language_shift) * b + eff.language_shift * shift.get(k, 0.0)
            for k, b in zip(LANGUAGES, base, strict=True)
        ]
        self.lang_cum = (np.cumsum(w) / sum(w)).tolist()

    def _category(self) -> tuple[str, Vocab]:
        r = self.r
        if self.eff.new_line_share and r.random() < self.eff.new_line_share:
            return NEW_LINE
        name = _CATS[min(bisect(_CAT_CUM, r.random()), len(_CATS) - 1)]
        return name, CATEGORY_VOCAB[name]

    def _pick(self, v: Vocab, field: str, held_out: bool) -> str:
        words = v.split(field, held_out=False)
        if held_out and (field in ("nouns", "brands") or self.r.random() < 0.5):
            words = v.split(field, held_out=True)[len(words) :] or words
        return self.r.choice(words)

    def _slots(self, v: Vocab, held_out: bool) -> dict[str, Any]:
        r = self.r
        return {
            "noun": self._pick(v, "nouns", held_out),
            "brand": self._pick(v, "brands", held_out),
            "attr": self._pick(v, "attrs", held_out),
            "attr2": self._pick(v, "attrs", held_out).capitalize(),
            "material": self._pick(v, "materials", held_out),
            "size": self._pick(v, "sizes", held_out),
            "colour": r.choice(COLOURS),
            "audience": r.choice(AUDIENCES),
            "num": r.randrange(100_000, 1_000_000),
        }

    def _template(self, templates: tuple[str, ...], held_out: bool, held: int = 1) -> tuple[int, str]:
        k = (
            len(templates) - held + self.r.randrange(held)
            if held_out
            else self.r.randrange(len(templates) - held)
        )
        return k, templates[k]

    def _language(self) -> str:
        return list(LANGUAGES)[min(bisect(self.lang_cum, self.r.random()), len(LANGUAGES) - 1)]

    def _noisy(self, text: str, lang: str) -> str:
        """Mix in the language's words, abbreviate and misspell (a word at a time)."""
        r = self.r
        table = TRANSLATIONS.get(lang, {})

        def word(m: re.Match[str]) -> str:
            w = m.group(0)
            low = w.lower()
            if low in table and r.random() < 0.7:
                return table[low]
            if low in ABBREVIATIONS and r.random() < 0.25:
                return ABBREVIATIONS[low]
            if len(w) >= 5 and r.random() < 0.04:
                i = r.randrange(1, len(w) - 1)
                op = r.randrange(3)
                return (
                    w[:i] + w[i + 1 :]
                    if op == 0
                    else w[:i] + w[i] + w[i:]
                    if op == 1
                    else w[: i - 1] + w[i] + w[i - 1] + w[i + 1 :]
                )
            return w

        return _WORD.sub(word, text)

    def _slang(self, text: str, front: bool) -> str:
        if not (self.eff.slang_share and self.r.random() < self.eff.slang_share):
            return text
        term = NEW_SLANG[0] + (f" {NEW_SLANG[1]}" if self.r.random() < 0.5 else "")
        return f"{term} {text}" if front else f"{text} so {term}"

    def product(self, held_out: bool) -> dict[str, Any]:
        """A product listing: title, description, category."""
        cat, v = self._category()
        s = self._slots(v, held_out)
        k, title_t = self._template(TITLE_TEMPLATES, held_out, held=2)
        j, desc_t = self._template(DESCRIPTION_TEMPLATES, held_out)
        lang = self._language()
        title = self._slang(self._noisy(title_t.format(**s), lang), front=True)
        if self.r.random() < 0.2:
            title = title.lower()
        desc = self._noisy(desc_t.format(**s), lang)
        return {
            "title": title,
            "description": desc,
            "category": cat,
            "language": lang,
            "template": f"title{k}/desc{j}",
        }

    def review(self, held_out: bool) -> dict[str, Any]:
        """A review: text, the product's category, rating and return reason (``kept``: not returned)."""
        r = self.r
        cat, v = self._category()
        reason = r.choices(list(RETURN_REASONS), weights=_REASON_W)[0]
        (lo, hi), templates = RETURN_REASONS[reason]
        k, t = self._template(templates, held_out)
        lang = self._language()
        text = self._slang(self._noisy(t.format(**self._slots(v, held_out)), lang), front=False)
        return {"text": text, "category": cat, "rating": r.randint(lo, hi), "return_reason": reason,
                "language": lang, "template": f"{reason}{k}"}  # fmt: skip

    def query(self, held_out: bool) -> dict[str, Any]:
        """A search query and its intent."""
        intent = self.r.choices(list(INTENTS), weights=_INTENT_W)[0]
        _, v = self._category()
        k, t = self._template(INTENTS[intent], held_out)
        lang = self._language()
        text = self._noisy(t.format(**self._slots(v, held_out)), lang)
        text = self._slang(text, front=True) if intent == "product_search" else text
        return {"text": text.lower() if self.r.random() < 0.6 else text, "intent": intent, "language": lang,
                "template": f"{intent}{k}"}  # fmt: skip


def _table(
    kind: str, ids: pa.Array, times: np.ndarray, rows: list[dict[str, Any]], split: list[str]
) -> pa.Table:
    cols: dict[str, pa.Array] = {_ID[kind]: ids, "event_time": pa.array(times, pa.int64()).cast(TS)}
    for name in _COLUMNS[kind] + _TAIL[:-1]:
        typ = pa.int8() if name == "rating" else pa.string()
        cols[name] = pa.array([row[name] for row in rows], typ)
    cols["split"] = pa.array(split, pa.string())
    return pa.table(cols)


class TextStream:
    """Writes ``per_day`` rows of each text table per simulated day (partitioned like the other tables)."""

    def __init__(self, p: SimulationParams, out: Path, writer: PartitionWriter, per_day: int) -> None:
        if per_day < 0:
            raise DataError(f"texts per day must be >= 0, got {per_day}")
        if p.scenario in ("language_mix", "new_slang") and per_day == 0:
            raise DataError(f"scenario {p.scenario!r} changes only texts/: pass texts > 0 (texts per day)")
        self.p, self.root, self.writer, self.per_day = p, out / "texts", writer, per_day
        self.rows_ = dict.fromkeys(TEXT_TABLES, 0)
        self.partitions_: dict[str, list[str]] = {k: [] for k in TEXT_TABLES}

    def day(self, day: int) -> None:
        """Generate and queue one day's three tables."""
        ss = np.random.SeedSequence(entropy=self.p.seed, spawn_key=(17, day + 1000))
        r = random.Random(int(ss.generate_state(1)[0]))
        gen = TextGen(r, text_effects(self.p, day))
        d = self.p.start + timedelta(days=day)
        t0 = epoch_us(d)
        makers: dict[str, Callable[[bool], dict[str, Any]]] = {
            "products": gen.product, "reviews": gen.review, "queries": gen.query,
        }  # fmt: skip
        for kind, make in makers.items():
            split = ["test" if r.random() < TEST_SHARE else "train" for _ in range(self.per_day)]
            rows = [make(s == "test") for s in split]
            times = np.sort(np.array([t0 + r.randrange(86_400_000_000) for _ in rows], dtype=np.int64))
            ids = fixed_ids(_PREFIX[kind], np.arange(self.rows_[kind], self.rows_[kind] + len(rows)), 9)
            self.writer.submit(self.root / kind, d, _table(kind, ids, times, rows, split))
            self.rows_[kind] += len(rows)
            self.partitions_[kind].append(d.isoformat())

    def manifest(self) -> dict[str, Any]:
        """The manifest entries of ``texts/products``, ``texts/reviews`` and ``texts/queries``."""
        target = {"products": "category", "reviews": "return_reason", "queries": "intent"}
        return {
            f"texts/{k}": {
                "path": f"texts/{k}",
                "rows": self.rows_[k],
                "partitions": self.partitions_[k],
                "partitioning": "hive: date=YYYY-MM-DD",
                "id_column": _ID[k],
                "time_column": "event_time",
                "target": target[k],
                "split_column": "split",
            }
            for k in TEXT_TABLES
        }


def text_drift_events(p: SimulationParams, start: str | None, end: str | None) -> list[dict[str, Any]]:
    """The drift log's entries for ``texts/*`` (new product line, language mix, new slang term)."""
    m = min(float(p.magnitude or 0.0), 0.9)
    base = {"start": start, "end": end, "relationship": "P(x)", "expected": False}
    if p.scenario == "new_category":
        return [
            base | {"table": "texts/products", "features": ["title", "description", "category"],
                    "description": f"new product line '{NEW_LINE[0]}' takes {m:.0%} of new listings, "
                    "reviews and queries: words and a category never seen in training"},
            base | {"table": "texts/reviews", "features": ["text", "category"],
                    "description": f"reviews of the new product line '{NEW_LINE[0]}'"},
        ]  # fmt: skip
    if p.scenario == "language_mix":
        return [
            base | {"table": f"texts/{k}", "features": ["language", *_COLUMNS[k][:1]],
                    "description": f"language mix moves {m:.0%} of the way to Polish (50%), Italian (30%) "
                    "and Dutch (20%)"}
            for k in TEXT_TABLES
        ]  # fmt: skip
    if p.scenario == "new_slang":
        return [
            base | {"table": f"texts/{k}", "features": [_COLUMNS[k][0]],
                    "description": f"new slang term '{' '.join(NEW_SLANG)}' in {m:.0%} of "
                    + ("product searches" if k == "queries" else k)}
            for k in TEXT_TABLES
        ]  # fmt: skip
    return []
