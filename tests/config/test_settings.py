from pathlib import Path

import pytest

from shopml.config import Workspace, load_settings
from shopml.errors import ConfigError


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.workspace == Path("workspace")
    assert s.serve.port == 8080


def test_yaml_then_env_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "shopml.yaml"
    cfg.write_text("workspace: ws1\nserve:\n  port: 9000\n  workers: 2\n")
    env = {"SHOPML_SERVE__WORKERS": "3", "SHOPML_WORKSPACE": "ws2"}
    s = load_settings(cfg, environ=env)
    assert (s.serve.port, s.serve.workers, s.workspace) == (9000, 3, Path("ws2"))
    assert load_settings(cfg, environ=env, workspace=Path("ws3")).workspace == Path("ws3")


def test_invalid_value_names_key_value_and_expectation(tmp_path: Path) -> None:
    cfg = tmp_path / "shopml.yaml"
    cfg.write_text("serve:\n  port: eighty\n")
    with pytest.raises(ConfigError, match=r"key 'serve.port' = 'eighty': .*integer"):
        load_settings(cfg, environ={})


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "shopml.yaml"
    cfg.write_text("serve:\n  prot: 80\n")
    with pytest.raises(ConfigError, match=r"unknown key 'serve.prot'"):
        load_settings(cfg, environ={})


def test_out_of_range_and_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "shopml.yaml"
    cfg.write_text("serve:\n  workers: 0\n")
    with pytest.raises(ConfigError, match=r"serve.workers.*greater than or equal to 1"):
        load_settings(cfg, environ={})
    cfg.write_text("serve: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(cfg, environ={})
    cfg.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(cfg, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_workspace_ensure(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    assert ws.predictions_dir.parent.is_dir() and ws.events_dir.is_dir()
    assert ws.mlflow_uri.startswith("sqlite:///")
