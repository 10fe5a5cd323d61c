"""The one YAML loader: every YAML file shopml reads (settings, training configs, drift settings, loop
policies, schemas) goes through here, so every such error has one shape and names the file:

- ``drift settings file d.yaml does not exist``
- ``d.yaml: not valid YAML at line 2, column 5: mapping values are not allowed here``
- ``d.yaml: expected a mapping of drift settings, got list``
- ``d.yaml: unknown key 'features.amount.tst'`` / ``d.yaml: key 'alpha' = 2.0: Input should be less
  than 1`` / ``d.yaml: key 'target' is required``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from shopml.errors import ConfigError

__all__ = ["format_validation_error", "load_yaml", "parse_yaml", "read_yaml", "validate_model"]

M = TypeVar("M", bound=BaseModel)


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def parse_yaml(text: str, source: str, *, what: str = "settings") -> dict[str, Any]:
    r"""The mapping in ``text`` (an empty document is ``{}``); ``source`` names it in errors.

    >>> parse_yaml("a: 1", "x.yaml")
    {'a': 1}
    >>> parse_yaml("a: 1\nb: c: d", "x.yaml")
    Traceback (most recent call last):
    shopml.errors.ConfigError: x.yaml: not valid YAML at line 2, column 5: mapping values are not allowed here
    """
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        message = f"{source}: not valid YAML{_at(exc.problem_mark)}: {exc.problem or 'syntax error'}"
        if exc.context and exc.context_mark is not None and exc.context_mark != exc.problem_mark:
            message += f" ({exc.context}{_at(exc.context_mark)})"
        raise ConfigError(message) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of {what}, got {type(data).__name__}")
    return data


def read_yaml(path: str | Path, *, what: str = "settings") -> dict[str, Any]:
    """The mapping in the YAML file ``path``; ``what`` says what it should hold (``training
    settings``) and names the file in the not-found error."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} file {p} does not exist")
    return parse_yaml(p.read_text(encoding="utf-8"), str(p), what=what)


def format_validation_error(err: ValidationError, source: str) -> str:
    """One line per problem, each naming ``source`` and the dotted key path."""
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if not key:
            lines.append(f"{source}: {e['msg']}")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'")
        elif e["type"] == "missing":
            lines.append(f"{source}: key '{key}' is required")
        else:
            lines.append(f"{source}: key '{key}' = {e.get('input')!r}: {e['msg']}")
    return "; ".join(lines)


def validate_model(model: type[M], data: dict[str, Any], source: str) -> M:
    """``model`` validated from ``data``; a :class:`ConfigError` names ``source`` and each key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_yaml(path: str | Path, model: type[M], *, what: str = "settings") -> M:
    """Read the YAML file ``path`` and validate it as ``model`` (errors as in the module docstring)."""
    return validate_model(model, read_yaml(path, what=what), str(path))
