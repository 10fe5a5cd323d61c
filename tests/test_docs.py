"""The documentation: its Python examples run, its words are the product's, its facts match the code.

The site itself is built in strict mode by ``make docs`` (part of ``make test``): broken links, pages
missing from the navigation and references that no longer match the code fail that build.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PROSE = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "mkdocs.yml", *PAGES, *sorted(DOCS.rglob("*.py"))]

#: Words about how the project was made, not about the product. ("session" alone is product language:
#: a shopper's browsing session.)
PROCESS_WORDS = re.compile(
    r"\b(this|last|previous|next|earlier|other|that) (stop|session)s?\b"
    r"|\bstops? \d+\b|\bthe issue\b|\bissues? #?\d+\b|\(#\d+\)|\bfirst landing\b|\bthe lead\b"
    r"|\bthis round\b|\bclosed as blocked\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("path", PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_development_process_language(path: Path) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {m.group(0)!r}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in PROCESS_WORDS.finditer(line)
    ]
    assert not found, "development-process words in user-facing prose:\n" + "\n".join(found)


def test_process_word_pattern_catches_and_spares() -> None:
    for bad in ("measured this session", "last stop's demo", "so the issue is closed", "see (#4)"):
        assert PROCESS_WORDS.search(bad), bad
    for fine in ("a session of item ids", "the session recommender", "SIGTERM stops the server"):
        assert not PROCESS_WORDS.search(fine), fine


def _python_blocks(path: Path) -> list[str]:
    return [m.group(1) for m in _FENCE.finditer(path.read_text(encoding="utf-8"))]


_RUNNABLE = [p for p in [ROOT / "README.md", *PAGES] if _python_blocks(p)]


@pytest.mark.parametrize("path", _RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of a page runs, in order, in one namespace, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPML_WORKSPACE", raising=False)
    monkeypatch.delenv("SHOPML_CONFIG", raising=False)
    # Examples may register plugins (a drift test, a model kind): the registries are put back after.
    from shopml.kinds.base import KINDS
    from shopml.monitor.drift.registry import TESTS

    saved = [(registry, dict(registry)) for registry in (KINDS, TESTS)]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        for i, block in enumerate(_python_blocks(path)):
            code = compile(block, f"{path.relative_to(ROOT)} (python block {i + 1})", "exec")
            exec(code, namespace)
    finally:
        for registry, before in saved:
            registry.clear()
            registry.update(before)  # type: ignore[arg-type]


def test_changelog_follows_keep_a_changelog_and_names_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?", text, re.MULTILINE)
    assert releases and releases[0][0] == "Unreleased", "the first section is [Unreleased]"
    released = [(v, d) for v, d in releases if v != "Unreleased"]
    assert released and released[0][0] == version, f"newest release {released[:1]} vs pyproject {version}"
    assert all(d for _, d in released), "every release has a date"


def test_readme_is_short_and_links_into_the_docs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), f"README links to missing {target}"


def test_example_request_carries_exactly_the_fraud_presets_inputs(tmp_path: Path) -> None:
    """``docs/examples/fraud-request.json`` (sent by the quick start's curl) matches the fraud preset.

    It leaves out the event time, so the monitor windows it on the time it was served.
    """
    from shopml.simulate import feature_schema
    from shopml.train import preset

    config = preset("fraud", tmp_path)
    dropped = {*config.drop_columns, config.target, config.label_available_column, config.time_column}
    expected = {f.name for f in feature_schema("transactions").features} - dropped
    body = json.loads((DOCS / "examples" / "fraud-request.json").read_text(encoding="utf-8"))
    assert set(body["instances"][0]) == expected
