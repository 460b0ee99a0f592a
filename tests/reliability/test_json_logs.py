"""``FENGQIAO_LOG_FORMAT=json``: every stderr line is one JSON object; request lines carry
the request id, method, path and status, and never the query string or body."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fengqiao.config import ConfigError, load_settings
from fengqiao.testing.plugin import TEST_SECRET

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # formatting only

# Runs in its own process: configuring logging must not touch this test process's handlers.
SCRIPT = r"""
import logging, sys
from fengqiao.app import create_app

app = create_app({"mode": "production", "database_url": sys.argv[1], "instance_path": sys.argv[2],
                  "plugins": [], "redis_url": None})
client = app.test_client()
client.get("/login?next=/cases/GD-1", headers={"X-Request-Id": "lb-0123456789abcdef"})
client.post("/api/v1/forms/nope/submissions", json={"caller_mobile": "13800138000"})
client.get("/readyz")
with app.test_request_context("/boom", method="POST"):
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("fengqiao.test").exception("计算失败")
logging.getLogger("rq.worker").warning("outside any request")
"""


def _run(database_url: str, tmp_path, log_format: str) -> subprocess.CompletedProcess:
    env = {"FENGQIAO_LOG_FORMAT": log_format, "FENGQIAO_SECRET_KEY": TEST_SECRET, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", SCRIPT, database_url, str(tmp_path / "i")], env=env,
                          capture_output=True, text=True, timeout=60)


@SQLITE
def test_json_lines_on_stderr(database_url, tmp_path):
    done = _run(database_url, tmp_path, "json")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    requests = [line for line in lines if line["logger"] == "fengqiao.requests"]
    login, missing = requests[:2]
    assert (login["method"], login["path"], login["status"], login["request_id"]) == (
        "GET", "/login", 200, "lb-0123456789abcdef")
    assert (missing["path"], missing["status"], missing["level"]) == (
        "/api/v1/forms/nope/submissions", 404, "INFO")
    assert len(missing["request_id"]) == 32 and isinstance(missing["duration_ms"], float)
    assert not any(line["path"] == "/readyz" for line in requests)  # probes log at DEBUG only
    failed = next(line for line in lines if line["logger"] == "fengqiao.test")
    assert failed["message"] == "计算失败" and failed["level"] == "ERROR"
    assert "ZeroDivisionError" in failed["exc_info"] and failed["path"] == "/boom"
    outside = next(line for line in lines if line["logger"] == "rq.worker")
    assert "path" not in outside
    assert "13800138000" not in done.stderr and "next=" not in done.stderr  # no body, no query


@SQLITE
def test_text_is_the_default(database_url, tmp_path):
    done = _run(database_url, tmp_path, "text")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "INFO fengqiao.requests [lb-0123456789abcdef] GET /login 200" in done.stderr
    assert load_settings({"mode": "testing"}, environ={}).log_format == "text"


def test_a_bad_log_format_is_reported():
    with pytest.raises(ConfigError) as err:
        load_settings({"mode": "testing"}, environ={"FENGQIAO_LOG_FORMAT": "xml"})
    assert err.value.problems == ["FENGQIAO_LOG_FORMAT: 'xml' 无效，应为 text 或 json"]
    assert load_settings({"mode": "testing"}, environ={"FENGQIAO_LOG_FORMAT": "JSON"}).log_format == "json"
