"""Drive one endpoint with ``wrk`` (C, epoll): the HTTP throughput figures of ``bench_load``.

``httpx`` in ``load.py`` costs more CPU per request than a fast endpoint does, so on a small
machine the driver, not the server, would set the pace; ``wrk`` leaves the CPUs to the
servers. Each run POSTs one JSON body (with optional headers) for a fixed time over a fixed
number of keep-alive connections and reports requests/s, latency and non-2xx answers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

THREADS, CONNECTIONS = 2, 8
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def available() -> str | None:
    """The ``wrk`` executable, or None (the HTTP figures are then skipped with the reason)."""
    return shutil.which("wrk")


@dataclass(frozen=True)
class Run:
    url: str
    seconds: float
    requests_per_second: float
    mean_latency_ms: float
    errors: int  # non-2xx answers and socket errors


def post(url: str, body: dict, headers: dict[str, str] | None = None, seconds: float = 15.0) -> Run:
    """``wrk -t2 -c8 -d<seconds>s`` POSTing ``body`` as JSON to ``url`` (loopback only)."""
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(f"{url}: loopback only")
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(json.dumps(body, ensure_ascii=False))}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (headers or {}).items()]  # "[ [[": not "[[["
    with tempfile.TemporaryDirectory(prefix="fq-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = subprocess.run([available() or "wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s",
                              "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    return parse(out, url, seconds)


def parse(out: str, url: str = "", seconds: float = 0.0) -> Run:
    """The figures of one run from ``wrk``'s text output."""
    rps = _RPS.search(out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    latency = _LATENCY.search(out)
    errors = int(m.group(1)) if (m := _NON_2XX.search(out)) else 0
    if socket := _SOCKET.search(out):
        errors += sum(int(n) for n in socket.groups())
    return Run(url, seconds, float(rps.group(1)),
               float(latency.group(1)) * _UNITS[latency.group(2)] if latency else float("nan"), errors)


def _lua_string(text: str) -> str:
    """A Lua long string holding ``text`` exactly (no escapes to get wrong)."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"
