"""MkDocs hooks: the reference pages generated from the code at build time.

- ``reference/cli.md`` from the Typer application (every command, argument and option);
- ``reference/settings.md`` from the pydantic settings models (keys, types, defaults, limits, env names);
- ``reference/http.md`` from the OpenAPI document the server answers at ``GET /openapi.json``;
- ``reference/events.md`` from the event model and its kinds;
- ``changelog.md`` from ``CHANGELOG.md`` (its links into ``docs/`` made relative to the site).

A page written by hand at one of these paths would be replaced; the generators fail the build (strict
mode) when the code they read is missing, so the reference cannot silently fall behind.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

_GENERATED: dict[str, str] = {}


def _clean(text: str | None) -> str:
    """Help text as Markdown: Rich markup brackets kept literal, surplus spaces dropped."""
    if not text:
        return ""
    text = re.sub(r"\s+", " ", text).strip().replace("``", "`")
    text = re.sub(r":(?:class|func|meth|attr|mod|data|exc):`~?([^`]+)`", r"`\1`", text)
    return text.replace("|", "\\|")


def _yaml_value(value: Any) -> str:
    """A default as it would be written in ``shopml.yaml``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value)
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


# --------------------------------------------------------------------------------------------- CLI


def _annotation_name(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if args:
        return " \\| ".join(_annotation_name(a) for a in args if a is not type(None))
    return getattr(annotation, "__name__", str(annotation))


def _param_type(param: Any) -> str:
    """The parameter's type in words: Typer keeps the annotation, plain click a ``ParamType``."""
    if getattr(param, "is_flag", False):
        return "flag"
    described = getattr(param, "type_descriptor", None)
    if described is not None:
        kind = _annotation_name(described.annotation)
    else:
        kind = getattr(getattr(param, "type", None), "name", "") or ""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None or high is not None:
        kind += f" ({'' if low is None else low}..{'' if high is None else high})"
    return kind


def _param_row(param: Any, name: str | None = None) -> str:
    names = name or ", ".join(f"`{o}`" for o in [*param.opts, *getattr(param, "secondary_opts", [])])
    kind = _param_type(param)
    default = param.default
    shown = ""
    if param.required:
        shown = "**required**"
    elif default is not None and default != () and not callable(default) and kind != "flag":
        shown = f"`{default}`"
    elif kind == "flag" and default is True:
        shown = "on"
    return f"| {names} | {kind} | {shown} | {_clean(getattr(param, 'help', ''))} |"


def _command_md(cmd: Any, path: str, level: int) -> list[str]:
    out = [f"{'#' * level} `{path}`", ""]
    if cmd.help:
        out += [_clean(cmd.help.split("\f")[0]), ""]
    args = [p for p in cmd.params if p.param_type_name == "argument"]
    opts = [p for p in cmd.params if p.param_type_name == "option" and p.name != "help"]
    group = hasattr(cmd, "commands")
    usage = " ".join([path, "[OPTIONS]", *(f"{a.name.upper()}" for a in args)])
    if group:
        usage += " COMMAND [ARGS]..."
    out += ["```text", usage, "```", ""]
    if args:
        out += ["| argument | type | | |", "| --- | --- | --- | --- |"]
        out += [_param_row(a, f"`{a.name.upper()}`") for a in args]
        out.append("")
    if opts:
        out += ["| option | type | default | what it does |", "| --- | --- | --- | --- |"]
        out += [_param_row(o) for o in opts]
        out.append("")
    if group:
        for name in sorted(cmd.commands):
            sub = cmd.commands[name]
            if not sub.hidden:
                out += _command_md(sub, f"{path} {name}", min(level + 1, 4))
    return out


def cli_page() -> str:
    """The CLI reference, walked from the Typer application's click command tree."""
    import typer.main

    from shopml.cli.main import app

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the `shopml` command-line application when the documentation is built; "
        "`shopml COMMAND --help` prints the same.",
        "",
        "Exit codes: `0` ok, `1` a check found a problem (drift with `--fail-on-drift`, an alert with "
        "`--fail-on-alert`) or shopml itself failed, `2` bad usage (a missing file, an unknown model, an "
        "invalid value; the message names it).",
        "",
    ]
    commands = getattr(root, "commands", {})
    lines += ["| command | |", "| --- | --- |"]
    for name in sorted(commands):
        first = _clean((commands[name].help or "").split("\f")[0]).split(". ")[0].rstrip(".")
        lines.append(f"| [`shopml {name}`](#shopml-{name}) | {first} |")
    lines.append("")
    for name in sorted(commands):
        lines += _command_md(commands[name], f"shopml {name}", 2)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- settings


def _type_name(annotation: Any) -> str:
    """``int``, ``str | None``, ``sliding | expanding``, ``list[str]``: a type as a reader writes it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        text = " | ".join(str(a) for a in args)
    elif origin in (typing.Union, types.UnionType):
        text = " | ".join("None" if a is type(None) else _type_name(a) for a in args)
    elif args:
        text = str(annotation).replace("typing.", "").replace("pathlib.", "")
    else:
        text = getattr(annotation, "__name__", str(annotation))
    return text.replace("|", "\\|").replace("\\\\|", "\\|")


def _limits(field: Any) -> str:
    found = []
    for meta in field.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("pattern", "matches")):
            value = getattr(meta, attr, None)
            if value is not None:
                found.append(f"{sym} `{value}`")
    return ", ".join(found)


def _settings_rows(
    model: Any, prefix: str, sections: list[tuple[str, Any]], env_names: bool = True
) -> list[str]:
    from pydantic import BaseModel

    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            sections.append((key, ann))
            continue
        default = field.get_default(call_default_factory=True)
        note = "; ".join(x for x in (_clean(field.description), _limits(field)) if x)
        value = "**required**" if field.is_required() else f"`{_yaml_value(default)}`"
        row = f"| `{key}` | {_type_name(ann)} | {value} | "
        if env_names:
            row += f"`SHOPML_{key.upper().replace('.', '__')}` | "
        rows.append(row + f"{note} |")
    return rows


def settings_page() -> str:
    """Every settings key with its type, default, limits and environment variable."""
    from shopml.config import Settings

    head = ["| key | type | default | environment | notes |", "| --- | --- | --- | --- | --- |"]
    sections: list[tuple[str, Any]] = []
    lines = [
        "# Settings reference",
        "",
        "Generated from the pydantic settings models when the documentation is built. Settings come "
        "from `shopml.yaml` in the working folder (or `--config FILE`, or `SHOPML_CONFIG`), overlaid "
        "by `SHOPML_*` environment variables; nested keys use a double underscore "
        "(`SHOPML_SERVE__PORT=9000`). Unknown keys and invalid values fail with the key, the value and "
        "what was expected.",
        "",
        "```yaml",
        "# shopml.yaml",
        "mlflow_uri: http://mlflow.internal:5000",
        "serve:",
        "  port: 9000",
        "  workers: 2",
        "```",
        "",
        "## Top level",
        "",
        _clean(Settings.__doc__),
        "",
        *head,
        *_settings_rows(Settings, "", sections),
        "",
    ]
    while sections:
        key, model = sections.pop(0)
        lines += [f"## `{key}`", "", _clean(model.__doc__), "", *head]
        lines += _settings_rows(model, f"{key}.", sections)
        lines.append("")
    return "\n".join(lines) + "\n"


def _model_page(title: str, intro: list[str], model: Any) -> str:
    """A YAML file's keys, section by section, from the pydantic model that validates it."""
    head = ["| key | type | default | notes |", "| --- | --- | --- | --- |"]
    sections: list[tuple[str, Any]] = []
    lines = [f"# {title}", "", *intro, "", "## Top level", "", _clean(model.__doc__), "", *head]
    lines += [*_settings_rows(model, "", sections, env_names=False), ""]
    while sections:
        key, sub = sections.pop(0)
        lines += [f"## `{key}`", "", _clean(sub.__doc__), "", *head]
        lines += [*_settings_rows(sub, f"{key}.", sections, env_names=False), ""]
    return "\n".join(lines) + "\n"


def policy_page() -> str:
    """Every key of the loop policy YAML."""
    from shopml.loop import LoopPolicy

    intro = [
        "Generated from `shopml.loop.LoopPolicy` when the documentation is built. The policy is read "
        "from `workspace/loop.yaml` or `shopml loop once|run --policy FILE`; every key is optional, "
        "and unknown keys and invalid values are errors that name the key. How the parts work "
        "together: [the gate and the journal](../concepts/gate.md).",
    ]
    return _model_page("Loop policy reference", intro, LoopPolicy)


def train_config_page() -> str:
    """Every key of the training YAML."""
    from shopml.train import TrainConfig

    intro = [
        "Generated from `shopml.train.TrainConfig` when the documentation is built. A training YAML "
        "names your table and how to train on it; see [Bring your own table](../how-to/own-table.md). "
        "Relative paths are resolved against the YAML's folder; unknown keys and invalid values are "
        "errors that name the key.",
    ]
    return _model_page("Training config reference", intro, TrainConfig)


def kinds_page() -> str:
    """Every registered model kind: outputs, metrics, output drift, labels."""
    from shopml.kinds import KINDS

    lines = [
        "# Model kinds reference",
        "",
        "Generated from the registry `shopml.kinds.KINDS` when the documentation is built. What a kind "
        "is, and which steps use it today: [Model kinds](../concepts/kinds.md).",
        "",
        "| kind | served output | primary metric | output drift |",
        "| --- | --- | --- | --- |",
    ]
    for name, kind in KINDS.items():
        better = "lower" if kind.direction(kind.primary_metric) < 0 else "higher"
        drift = ", ".join(f"`{d.test}` on `{d.column}`" for d in kind.output_drift)
        lines.append(
            f"| [`{name}`](#{name}) | `{kind.served_output}` | `{kind.primary_metric}` ({better} is better)"
            f" | {drift} |"
        )
    lines.append("")
    for name, kind in KINDS.items():
        module = importlib.import_module(type(kind).__module__)
        lines += [f"## `{name}`", "", _clean((module.__doc__ or "").split("\n\n>>>")[0]), ""]
        lines += ["| output | OIP datatype | shape | |", "| --- | --- | --- | --- |"]
        for out in kind.outputs:
            lines.append(f"| `{out.name}` | {out.datatype} | `{list(out.shape)}` | {_clean(out.description)} |")
        metrics = ", ".join(f"`{m}`" for m in kind.metrics)
        missing = kind.label.missing_after_maturity
        lines += [
            "",
            f"- **Metrics**: {metrics}; primary `{kind.primary_metric}`.",
            f"- **Labels**: {kind.label.dtype}, {_clean(kind.label.description)}; a row without a label "
            + ("stays unlabelled" if missing is None else f"counts as `{missing:g}`")
            + " once it has matured.",
            f"- **Threshold**: {'calibrated score and a decision threshold' if kind.thresholded else 'none'}.",
            "",
        ]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- HTTP


def _schema_ref(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    return f"`{schema.get('type', 'any')}`"


def http_page() -> str:
    """Every route of the OpenAPI document the server answers at ``GET /openapi.json``."""
    from shopml.serve.openapi import openapi_spec

    spec = openapi_spec()
    lines = [
        "# HTTP API reference",
        "",
        "Generated from the OpenAPI document that `shopml serve` answers at `GET /openapi.json` "
        f"({spec['info'].get('description', '')}). Every response carries `x-request-id`; errors are "
        'JSON `{"error": "...", "kind": "..."}` with a 4xx status for the client\'s mistakes.',
        "",
        "| method | path | what it does |",
        "| --- | --- | --- |",
    ]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            lines.append(f"| `{method.upper()}` | `{path}` | {_clean(op.get('summary'))} |")
    lines.append("")
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            lines += [f"## `{method.upper()} {path}`", "", _clean(op.get("summary")), ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | required | schema |", "| --- | --- | --- | --- |"]
                for p in params:
                    schema = json.dumps(p.get("schema", {}))
                    lines.append(f"| `{p['name']}` | {p['in']} | {p.get('required', False)} | `{schema}` |")
                lines.append("")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                lines += [f"Request body: {_schema_ref(body)}", ""]
            lines += ["| status | answer |", "| --- | --- |"]
            for status, resp in op.get("responses", {}).items():
                schema = resp.get("content", {}).get("application/json", {}).get("schema")
                what = _clean(resp.get("description"))
                lines.append(f"| {status} | {what}{' — ' + _schema_ref(schema) if schema else ''} |")
            lines.append("")
    schemas = spec.get("components", {}).get("schemas", {})
    if schemas:
        lines += ["## Schemas", ""]
        for name, schema in schemas.items():
            lines += [f"### {name}", "", "```json", json.dumps(schema, indent=2), "```", ""]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ events


def _event_module() -> Any:
    for name in ("shopml.journal", "shopml.monitor.events"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "Event") and hasattr(module, "EVENT_KINDS"):
            return module
    raise ImportError("no module exports Event and EVENT_KINDS (shopml.journal or shopml.monitor.events)")


def events_page() -> str:
    """The event model's fields and the kinds shopml writes."""
    module = _event_module()
    event = module.Event
    lines = [
        "# Events reference",
        "",
        f"Generated from `{module.__name__}` when the documentation is built. Events are JSON Lines in "
        "`workspace/events/events.jsonl`, one event a line; see [Concepts: the gate and the "
        "journal](../concepts/gate.md) for who writes which.",
        "",
        "## Fields of an event",
        "",
        _clean(event.__doc__),
        "",
        "| field | type | default |",
        "| --- | --- | --- |",
    ]
    for name, field in event.model_fields.items():
        default = (
            "**required**"
            if field.is_required()
            else "generated"
            if field.default_factory
            else f"`{field.default!r}`"
        )
        lines.append(f"| `{name}` | {_type_name(field.annotation)} | {default} |")
    lines += ["", "## Kinds", "", "| kind |", "| --- |"]
    lines += [f"| `{kind}` |" for kind in module.EVENT_KINDS]
    lines += [
        "",
        "Severities, in increasing order: " + ", ".join(f"`{s}`" for s in module.SEVERITIES) + ".",
        "",
    ]
    return "\n".join(lines) + "\n"


PAGES = {
    "reference/cli.md": cli_page,
    "reference/settings.md": settings_page,
    "reference/http.md": http_page,
    "reference/events.md": events_page,
    "reference/policy.md": policy_page,
    "reference/kinds.md": kinds_page,
    "reference/train-config.md": train_config_page,
}


def on_files(files: Files, config: Any) -> Files:
    """Add (or replace) the generated reference pages.

    They are made in a child process: the application's imports (Typer brings its own click) stay out
    of the MkDocs process.
    """
    root = Path(config.config_file_path).parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root / "src"), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, check=False, cwd=root, env=env
    )
    if done.returncode != 0:
        raise PluginError(f"generating the reference pages failed:\n{done.stderr}")
    pages = json.loads(done.stdout)
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    pages["changelog.md"] = changelog.replace("](docs/", "](")
    for path, content in pages.items():
        old = files.get_file_from_path(path)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":
    print(json.dumps({path: make() for path, make in PAGES.items()}))
