"""Start-up stays cheap: ``shopml --help`` imports Typer and the command table only, and the serving
path imports no training library (checked in a fresh interpreter, where ``sys.modules`` is honest)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "numpy", "pyarrow", "pandas", "scipy", "sklearn", "xgboost", "mlflow", "onnx", "rich")
TRAINING = ("xgboost", "sklearn", "mlflow", "scipy", "imblearn", "onnx", "skl2onnx", "onnxmltools", "river")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["--help"], ["drift", "--help"], ["train", "--help"], ["models", "-h"]])
def test_help_imports_no_library(argv: list[str]) -> None:
    code = (
        "import contextlib, io, sys\n"
        f"sys.argv = ['shopml', *{argv!r}]\n"
        "from shopml.cli.main import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    app()"
    )
    modules = _modules_after(code)
    # Typer (0.29) coerces argument values through pydantic, even on the way to a command's --help
    heavy = set(HEAVY) if len(argv) == 1 else set(HEAVY) - {"pydantic"}
    assert not _top(modules) & heavy, sorted(_top(modules) & heavy)
    ours = {m for m in modules if m.startswith("shopml.") and not m.startswith("shopml.cli")}
    allowed = {"shopml.errors", "shopml.extras", "shopml.simulate", "shopml.simulate.names", "shopml._lazy"}
    assert ours <= allowed, ours


def test_serving_imports_no_training_library() -> None:
    modules = _modules_after("import shopml.serve")
    assert not _top(modules) & set(TRAINING), sorted(_top(modules) & set(TRAINING))
