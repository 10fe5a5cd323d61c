"""The one YAML loader: each error shape names the file, and the key path where there is one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shopml.config import load_yaml, parse_yaml, read_yaml
from shopml.errors import ConfigError


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int = Field(8080, ge=0, le=65535)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: Inner = Field(default_factory=lambda: Inner())
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self) -> Outer:
        if self.low > self.high:
            raise ValueError(f"low {self.low} must not exceed high {self.high}")
        return self


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads(tmp_path: Path) -> None:
    got = load_yaml(_write(tmp_path, "name: a\ninner: {port: 9000}\n"), Outer)
    assert (got.name, got.inner.port) == ("a", 9000)


def test_missing_file_names_what_and_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^drift settings file .*nope\.yaml does not exist$"):
        load_yaml(tmp_path / "nope.yaml", Outer, what="drift settings")


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\ninner:\n  port: 1: 2\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path, Outer)
    assert info.value.message == (
        f"{path}: not valid YAML at line 3, column 10: mapping values are not allowed here"
    )


def test_unclosed_bracket_points_at_where_it_opened(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml(_write(tmp_path, "name: a\ninner: [1, 2\n"))
    assert info.value.message.endswith(
        "not valid YAML at line 3, column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 2, column 8)"
    )


def test_not_a_mapping_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"conf\.yaml: expected a mapping of loop policy, got list"):
        read_yaml(_write(tmp_path, "- a\n- b\n"), what="loop policy")


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    assert read_yaml(_write(tmp_path, "# nothing yet\n")) == {}


def test_unknown_key_names_the_dotted_path_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\ninner: {prot: 80}\n")
    with pytest.raises(ConfigError, match=rf"^{path}: unknown key 'inner\.prot'$"):
        load_yaml(path, Outer)


def test_bad_value_names_key_value_and_expectation(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\ninner: {port: eighty}\n")
    with pytest.raises(ConfigError, match=rf"^{path}: key 'inner\.port' = 'eighty': .*integer"):
        load_yaml(path, Outer)


def test_missing_key_and_several_problems_in_one_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "inner: {port: -1}\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path, Outer)
    problems = info.value.message.split("; ")
    assert problems[0] == f"{path}: key 'name' is required"
    assert problems[1].startswith(f"{path}: key 'inner.port' = -1: ")


def test_model_level_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: a\nlow: 2\nhigh: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}: Value error, low 2\.0 must not exceed high 1\.0$"):
        load_yaml(path, Outer)


def test_parse_yaml_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^schema\.yaml: not valid YAML at line 1"):
        parse_yaml("features: [", "schema.yaml")
