"""Run the real ``shopml serve`` as a child process on a free loopback port, and talk to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from shopml.errors import NotReadyError

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``shopml serve`` on 127.0.0.1 for ``workspace``; a context manager that stops it with SIGTERM."""

    def __init__(
        self, workspace: Path, *, poll_interval_s: float = 0.5, log_file: Path | None = None
    ) -> None:
        self.workspace = workspace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.poll_interval_s = poll_interval_s
        self.log_file = log_file or workspace / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180.0) -> ServerProcess:
        """Start the server and wait until ``/v2/health/ready`` answers 200."""
        env = {
            **os.environ,
            "SHOPML_WORKSPACE": str(self.workspace),
            "SHOPML_SERVE__POLL_INTERVAL_S": str(self.poll_interval_s),
            "SHOPML_SERVE__EVENT_TIME_WINDOW_S": "0",  # a replay: event times follow the simulated clock
        }
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        cmd = [sys.executable, "-m", "shopml", "serve", "--port", str(self.port)]
        self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise NotReadyError(f"shopml serve exited with {self._proc.returncode}; see {self.log_file}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise NotReadyError(f"shopml serve not ready after {timeout_s:.0f}s; see {self.log_file}")

    def served_version(self, model: str) -> str | None:
        """The version the server currently answers ``model`` with (OIP model metadata)."""
        r = httpx.get(f"{self.url}/v2/models/{model}", timeout=5.0)
        if r.status_code != 200:
            return None
        versions = r.json().get("versions") or []
        return str(versions[0]) if versions else None

    def wait_for_version(self, model: str, version: int, timeout_s: float = 30.0) -> float:
        """Block until the server serves ``version`` of ``model`` (hot swap); returns seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.served_version(model) == str(version):
                return time.monotonic() - t0
            time.sleep(0.1)
        raise NotReadyError(f"server did not swap {model} to v{version} within {timeout_s:.0f}s")

    def stop(self) -> int | None:
        """SIGTERM (graceful: the prediction log is flushed) and wait; returns the exit code."""
        if self._proc is None or self._proc.poll() is not None:
            return None if self._proc is None else self._proc.returncode
        self._proc.send_signal(signal.SIGTERM)
        try:
            return self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return self._proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
