"""A serving-only install: ``shopml serve`` answers predictions with every training library absent.

The server runs in a fresh interpreter whose import system refuses the training extras (as if they were
not installed), so the test fails if the serving path imports any of them, at start-up or per request.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
from benchmarks.serve_fixture import FixtureModel

from .conftest import free_port, make_registry
from .test_cli_serve import _wait_ready

#: Top-level modules of the ``train``/``monitor``/``nn`` extras (see pyproject.toml).
TRAINING = (
    "xgboost",
    "sklearn",
    "imblearn",
    "scipy",
    "pandas",
    "onnx",
    "skl2onnx",
    "onnxmltools",
    "joblib",
    "river",
    "plotly",
    "matplotlib",
    "torch",
)

SERVER = textwrap.dedent(
    """
    import importlib.abc, sys

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (serving-only install)", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    sys.argv = ["shopml", "serve", "--port", "{port}", "--workspace", {ws!r}]
    from shopml.cli.main import app
    app()
    """
)


def test_serving_needs_no_training_library(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    ws = tmp_path / "ws"
    make_registry(ws, models)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = SERVER.format(blocked=set(TRAINING), port=port, ws=str(ws))
    log = tmp_path / "serve.log"
    env = {**os.environ, "SHOPML_SERVE__LOG_FLUSH_INTERVAL_S": "0.2"}
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=err, cwd=tmp_path)
    try:
        _wait_ready(url, proc, log)
        answer = httpx.post(f"{url}/v1/models/fraud/predict", json={"instances": rows[:5]}, timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["predictions"]) == 5 and body["model_version"] == 1
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(60)
    assert "serving-only install" not in log.read_text(), log.read_text()[-2000:]


def test_core_dependencies_hold_no_training_library() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert not core & {"xgboost", "scikit-learn", "imbalanced-learn", "scipy", "pandas", "onnx", "skl2onnx"}
    extras = project["optional-dependencies"]
    assert {"train", "monitor", "nn", "all"} <= set(extras)
