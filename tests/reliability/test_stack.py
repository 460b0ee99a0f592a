"""``make stack-up`` / ``make stack-down``: the 2 web + 2 worker stack starts, serves, runs
jobs, and stops cleanly; stopping twice is harmless."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from fengqiao.testing.services import free_port


def _stack(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fengqiao.stack", command, *(
        ["--port", env["STACK_PORT"]] if command == "up" else [])], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=150)


def _running(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.mark.slow
def test_stack_up_serves_and_down_stops_everything(pg_server, redis_proc, tmp_path):
    name = f"fengqiao_stack_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STACK_PORT": str(port),
           "FENGQIAO_STACK_DATABASE_URL": pg_server.url(name), "FENGQIAO_STACK_REDIS_URL": redis_proc.url}
    folder = tmp_path / "instance" / "stack"
    try:
        up = _stack("up", tmp_path, env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{port}/" in up.stdout
        pids = {p.stem: int(p.read_text()) for p in folder.glob("*.pid")}
        assert set(pids) == {"web", "worker-1", "worker-2"}
        assert _stack("up", tmp_path, env).stdout.startswith("本地集群已在运行")  # idempotent

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert json.load(response)["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/forms/livelihood-request/submissions", method="POST",
            headers={"Content-Type": "application/json"}, data=json.dumps({
                "request_type": "complaint", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
                "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福",
                "caller_mobile": "13800138000", "id_card": "339901195203140111"}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        web_log = (folder / "web.log").read_text()
        assert all(json.loads(line) for line in web_log.splitlines() if line.strip())  # JSON lines

        all_pids = list(pids.values()) + [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(pids["web"])], capture_output=True, text=True).stdout.split()]
        assert len(_running(all_pids)) == 5  # master, 2 web workers, 2 job workers
        down = _stack("down", tmp_path, env)
        assert down.returncode == 0 and down.stdout.count("已停止") == 3, down.stdout + down.stderr
        assert _running(all_pids) == [] and not list(folder.glob("*.pid"))
        assert "未运行" in _stack("down", tmp_path, env).stdout
    finally:
        _stack("down", tmp_path, env)
        pg_server.drop_database(name)
