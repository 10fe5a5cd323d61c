"""HTTP load generators for ``bench_serve``: ``wrk`` (preferred) and an honest Python fallback.

Both drive keep-alive connections in a closed loop for a fixed duration, cycling through the given
request bodies (so consecutive requests differ), and report requests/s, p50/p99 latency (µs) and errors
(socket errors + non-2xx answers).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

__all__ = ["python_load", "wrk_load"]

_LUA = """
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
local text = f:read("*a")
f:close()
local reqs, i = {}, 0
local headers = {["Content-Type"] = "application/json"}
for line in text:gmatch("[^\\n]+") do
  reqs[#reqs + 1] = wrk.format("POST", nil, headers, line)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %.1f %.1f\\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lines(bodies: list[bytes]) -> bytes:
    if any(b"\n" in b or not b for b in bodies):
        raise ValueError("request bodies must be non-empty single-line JSON")
    return b"\n".join(bodies) + b"\n"


def wrk_load(url: str, bodies: list[bytes], conns: int, duration: float) -> dict[str, float]:
    """Run ``wrk -t1 -c<conns>`` for ``duration`` seconds, POSTing ``bodies`` in turn (requests are
    pre-formatted once; latency percentiles from wrk's histogram)."""
    with tempfile.TemporaryDirectory() as d:
        script, data = Path(d) / "post.lua", Path(d) / "bodies.jsonl"
        script.write_text(_LUA)
        data.write_bytes(_lines(bodies))
        cmd = [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{max(duration, 1):.0f}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ]
        out = subprocess.run(
            cmd, env={**os.environ, "WRK_BODY_FILE": str(data)}, capture_output=True, text=True, check=True
        ).stdout
    m = re.search(r"RESULT (.*)", out)
    if m is None:
        raise RuntimeError(f"wrk gave no result: {out}")
    n, dur_us, *errs, p50, p99 = (float(x) for x in m.group(1).split())
    return {
        "requests": int(n),
        "rps": n / (dur_us / 1e6),
        "p50_us": p50,
        "p99_us": p99,
        "errors": int(sum(errs)),
    }


async def _client(
    host: str, port: int, reqs: list[bytes], deadline: float, lat: list[float], errs: list[int]
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        errs.append(1)
        return
    try:
        i = 0
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            writer.write(reqs[i % len(reqs)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
            await reader.readexactly(int(m.group(1)) if m else 0)
            lat.append(time.perf_counter() - t)
            if head[9:10] != b"2":
                errs.append(1)
    except (OSError, asyncio.IncompleteReadError):
        errs.append(1)
    finally:
        writer.close()


def python_load(url: str, bodies: list[bytes], conns: int, duration: float) -> dict[str, float]:
    """A raw-socket asyncio (uvloop) closed-loop generator; it saturates before wrk does."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reqs = [
        (
            f"POST {parts.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    lat: list[float] = []
    errs: list[int] = []

    async def run() -> float:
        t = time.perf_counter()
        deadline = t + duration
        await asyncio.gather(*(_client(host, port, reqs, deadline, lat, errs) for _ in range(conns)))
        return time.perf_counter() - t

    try:
        import uvloop

        elapsed = uvloop.run(run())
    except ImportError:
        elapsed = asyncio.run(run())
    arr = np.array(lat) * 1e6 if lat else np.array([np.nan])
    return {
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50_us": float(np.percentile(arr, 50)),
        "p99_us": float(np.percentile(arr, 99)),
        "errors": len(errs),
    }
