"""The text classifier's drift reference, written beside the bundle at training.

Two files, compared with what the server logs per text (:mod:`shopml.serve.text`):

* ``reference_sample.npz`` (:mod:`shopml.monitor.drift.embedding`): for up to ``max_rows`` of the given
  texts (a training run gives all of its texts, training and held-out), drawn at random with the run's
  seed, the pooled ``embedding`` (tested with MMD) and the ``text_length`` (KS);
* ``text_reference.json``: how often each word (the tokenizer's own normalised pre-tokens) occurs in
  all the given texts, the count of words and texts, the mean unknown-token rate and the number of texts
  with an unknown token — what :mod:`shopml.text.drift` compares the logged texts with.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_REFERENCE_ROWS",
    "MAX_WORDS",
    "REFERENCE_FILE",
    "load_text_reference",
    "text_reference",
    "unknown_rates",
    "word_counts",
]

REFERENCE_FILE = "text_reference.json"
MAX_REFERENCE_ROWS = 1000
#: Words kept in the reference (the most frequent): rarer ones count as absent, which they nearly are.
MAX_WORDS = 50_000


def _tokenizer(tokenizer: Any) -> Any:
    if isinstance(tokenizer, str | Path):
        from shopml.text.export import load_tokenizer

        return load_tokenizer(tokenizer)
    return tokenizer


def words(tokenizer: Any, text: str) -> list[str]:
    """The words of ``text`` as the tokenizer splits them before word pieces (normalised: lower-cased,
    accents stripped for an uncased BERT vocabulary)."""
    norm = tokenizer.normalizer.normalize_str(text) if tokenizer.normalizer is not None else text
    pre = tokenizer.pre_tokenizer
    return [w for w, _ in pre.pre_tokenize_str(norm)] if pre is not None else norm.split()


def word_counts(tokenizer: Any, texts: Sequence[str]) -> Counter[str]:
    """Occurrences of each word over ``texts``."""
    tok = _tokenizer(tokenizer)
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(words(tok, t))
    return counts


def unknown_rates(tokenizer: Any, texts: Sequence[str], max_length: int) -> np.ndarray:
    """Per text the share of ``[UNK]`` among its word pieces (special tokens aside), cut at ``max_length``
    tokens: the value the server logs as ``unknown_token_rate``."""
    tok = _tokenizer(tokenizer)
    tok.enable_truncation(max_length=max_length)
    unk = tok.token_to_id(getattr(tok.model, "unk_token", None) or "[UNK]")
    out = np.zeros(len(texts), dtype=np.float64)
    for i, e in enumerate(tok.encode_batch(list(texts))):
        n = len(e.ids) - sum(e.special_tokens_mask)
        out[i] = e.ids.count(unk) / n if n else 0.0
    return out


def text_reference(
    folder: str | Path,
    texts: Sequence[str],
    tokenizer: Any,
    *,
    module: Any = None,
    embeddings: np.ndarray | None = None,
    max_length: int = 64,
    max_rows: int = MAX_REFERENCE_ROWS,
    seed: int = 0,
) -> Path:
    """Write the drift reference of ``texts`` into the bundle ``folder``: their embeddings
    (given as ``embeddings`` ``[N, H]`` or computed with ``module``, the exported model) for a sample of
    ``max_rows``, per-text unknown-token rates and lengths, and the word counts of all ``texts``.
    ``tokenizer``: the bundle's ``tokenizer.json`` (a path) or a loaded ``tokenizers.Tokenizer``."""
    from shopml.monitor.drift.embedding import save_sample

    tok = _tokenizer(tokenizer)
    texts = list(texts)
    rng = np.random.default_rng([seed, 15])
    rows = np.sort(rng.permutation(len(texts))[:max_rows])
    sample = [texts[i] for i in rows]
    if embeddings is not None:
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or len(emb) != len(texts):
            raise ValueError(f"embeddings must be [{len(texts)}, H] for {len(texts)} texts, got {emb.shape}")
        emb = emb[rows]
    elif module is not None:
        from shopml.text.export import tokenize, torch_outputs

        emb = (
            np.concatenate(
                [
                    torch_outputs(module, *tokenize(tok, sample[i : i + 64], max_length))[1]
                    for i in range(0, len(sample), 64)
                ]
            )
            if sample
            else np.zeros((0, 0), np.float32)
        )
    else:
        raise ValueError("text_reference needs the embeddings or the module that computes them")
    rates = unknown_rates(tok, texts, max_length)
    save_sample(
        folder,
        {
            "embedding": emb.astype(np.float32),
            "text_length": np.asarray([len(t) for t in sample], dtype=np.float64),
        },
    )
    counts = word_counts(tok, texts)
    doc = {
        "texts": len(texts),
        "words": int(sum(counts.values())),
        "unknown_token_rate": float(rates.mean()) if len(rates) else 0.0,
        "texts_with_unknown": int(np.count_nonzero(rates > 0)),
        "max_length": max_length,
        "word_counts": dict(counts.most_common(MAX_WORDS)),
    }
    path = Path(folder) / REFERENCE_FILE
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def load_text_reference(folder: str | Path) -> dict[str, Any] | None:
    """The word counts etc. of a bundle folder, or ``None`` when it records none."""
    path = Path(folder) / REFERENCE_FILE
    if not path.exists():
        return None
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc
