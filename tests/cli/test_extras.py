"""A missing optional library names the extra that installs it (checked with the library hidden)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shopml.extras import EXTRAS, MissingExtraError, extra_of, missing_extra, require

HIDE = textwrap.dedent(
    """
    import importlib.abc, sys

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {hidden!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    import importlib.util
    real = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name in {hidden!r} else real(name, *a)
    sys.argv = ["shopml", *{argv!r}]
    from shopml.cli.main import app
    app()
    """
)


def _run(hidden: set[str], argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    code = HIDE.format(hidden=hidden, argv=argv)
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.parametrize(
    ("hidden", "argv", "extra"),
    [
        ({"xgboost"}, ["train", "--task", "fraud"], "train"),
        ({"river"}, ["drift", "a.parquet", "b.parquet"], "monitor"),
        ({"plotly"}, ["dashboard"], "monitor"),
    ],
)
def test_command_names_the_extra_to_install(
    hidden: set[str], argv: list[str], extra: str, tmp_path: Path
) -> None:
    out = _run(hidden, [*argv, "-w", str(tmp_path / "ws")], tmp_path)
    err = " ".join(out.stderr.split())
    assert out.returncode == 1, out.stderr
    assert f"needs '{next(iter(hidden))}', which is not installed: pip install 'shopml[{extra}]'" in err


def test_an_import_failing_deep_inside_names_the_extra() -> None:
    exc = ModuleNotFoundError("No module named 'sklearn.linear_model'", name="sklearn.linear_model")
    err = missing_extra(exc, "shopml loop once")
    assert isinstance(err, MissingExtraError) and err.status == 500
    assert err.message == (
        "shopml loop once needs 'sklearn', which is not installed: pip install 'shopml[train]' "
        "(or 'shopml[all]')"
    )
    assert missing_extra(ModuleNotFoundError("x", name="not_ours")) is None


def test_every_extra_is_declared_in_pyproject() -> None:
    import tomllib

    declared = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert set(EXTRAS) <= set(declared["optional-dependencies"])
    assert extra_of("scipy.stats") == ("train", "monitor")
    require("train", "monitor")  # installed here: no error
