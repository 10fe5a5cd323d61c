"""The schema model: one typed spec per column, round-tripping through YAML and JSON."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopml.errors import ConfigError, SchemaError

__all__ = ["MODEL_INPUT_KINDS", "FeatureKind", "FeatureSpec", "Schema"]


class FeatureKind(StrEnum):
    """What a column is to a model."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    TEXT = "text"
    TIMESTAMP = "timestamp"
    ID = "id"
    TARGET = "target"


#: Kinds a tabular model consumes as inputs (ids, timestamps, targets and free text are not inputs).
MODEL_INPUT_KINDS = frozenset({FeatureKind.NUMERIC, FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN})


class FeatureSpec(BaseModel):
    """One column: its kind, whether nulls are allowed, bounds and known categories."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: FeatureKind
    nullable: bool = False
    allow_nan: bool = False
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.categories is not None and self.kind != FeatureKind.CATEGORICAL:
            raise ValueError(f"categories are only for categorical columns, not {self.kind.value}")
        return self


class Schema(BaseModel):
    """An ordered set of column specs; at most one target.

    >>> s = Schema(features=[FeatureSpec(name="amount", kind="numeric", min=0)])
    >>> Schema.from_json(s.to_json()) == s
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[FeatureSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> Schema:
        names = [f.name for f in self.features]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate column names: {dup}")
        targets = [f.name for f in self.features if f.kind == FeatureKind.TARGET]
        if len(targets) > 1:
            raise ValueError(f"at most one target column, got {targets}")
        return self

    # --- look-ups ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """All column names, in order."""
        return [f.name for f in self.features]

    def __getitem__(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise SchemaError(f"column '{name}' is not in the schema (known: {self.names})")

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.features)

    def of_kind(self, *kinds: FeatureKind | str) -> list[FeatureSpec]:
        """Specs of the given kinds, in schema order."""
        wanted = {FeatureKind(k) for k in kinds}
        return [f for f in self.features if f.kind in wanted]

    @property
    def target(self) -> str | None:
        """The target column's name, if any."""
        t = self.of_kind(FeatureKind.TARGET)
        return t[0].name if t else None

    @property
    def input_features(self) -> list[FeatureSpec]:
        """Columns a tabular model takes as input (numeric, categorical, boolean)."""
        return [f for f in self.features if f.kind in MODEL_INPUT_KINDS]

    def without(self, *names: str) -> Schema:
        """A copy without the named columns."""
        return Schema(features=tuple(f for f in self.features if f.name not in names))

    def with_overrides(self, overrides: dict[str, dict[str, Any]]) -> Schema:
        """Apply per-column overrides (e.g. from YAML: ``{"amount": {"min": 0}}``).

        A name not in the schema adds a column (its ``kind`` is then required).
        """
        specs = {f.name: f.model_dump() for f in self.features}
        order = list(specs)
        for name, patch in overrides.items():
            if not isinstance(patch, dict):
                raise ConfigError(f"schema override for '{name}': expected a mapping, got {patch!r}")
            if name not in specs:
                specs[name] = {"name": name}
                order.append(name)
            specs[name] = {**specs[name], **patch, "name": name}
        if any(patch.get("kind") == FeatureKind.TARGET.value for patch in overrides.values()):
            for name in order:
                if specs[name]["kind"] == FeatureKind.TARGET and name not in overrides:
                    specs[name]["kind"] = FeatureKind.NUMERIC
        return Schema.from_dict({"features": [specs[n] for n in order]})

    # --- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain JSON/YAML-ready mapping (defaults left out)."""
        out = []
        for f in self.features:
            d = f.model_dump(mode="json", exclude_defaults=True)
            d["kind"] = f.kind.value
            out.append(d)
        return {"features": out}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "schema") -> Schema:
        """Build from a mapping; errors name the column and the key."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = []
            feats = data.get("features") if isinstance(data, dict) else None
            for e in exc.errors():
                loc = list(e["loc"])
                where = ".".join(str(p) for p in loc)
                if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int) and feats:
                    item = feats[loc[1]]
                    name = item.get("name", f"#{loc[1]}") if isinstance(item, dict) else loc[1]
                    where = f"column '{name}'" + (f" key '{loc[2]}'" if len(loc) > 2 else "")
                problems.append(f"{source}: {where}: {e['msg']} (got {e.get('input')!r})")
            raise ConfigError("; ".join(problems)) from None

    def to_json(self) -> str:
        """Stable JSON text."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        """YAML text, one column per list item."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str, source: str = "schema") -> Schema:
        """Inverse of :meth:`to_yaml`."""
        from shopml.config.loader import parse_yaml

        data = parse_yaml(text, source, what="schema (a mapping with a 'features' list)")
        if not data:
            raise ConfigError(f"{source}: expected a mapping with a 'features' list")
        return cls.from_dict(data, source=source)

    def save(self, path: str | Path) -> None:
        """Write as YAML or JSON by the file's suffix."""
        p = Path(path)
        p.write_text(self.to_json() if p.suffix == ".json" else self.to_yaml(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a YAML or JSON schema file."""
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"schema file {p} does not exist")
        text = p.read_text(encoding="utf-8")
        return cls.from_json(text) if p.suffix == ".json" else cls.from_yaml(text, source=str(p))
