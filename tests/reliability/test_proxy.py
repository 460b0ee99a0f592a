"""Behind nginx (``fengqiao.wsgi_proxied:app``) the app sees the resident's address and
scheme from the proxy's headers; ``fengqiao.wsgi:app`` ignores them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fengqiao.testing.plugin import TEST_SECRET

SCRIPT = r"""
import importlib, sys
from flask import request

app = importlib.import_module(sys.argv[1]).app
seen = []
app.before_request(lambda: seen.append((request.remote_addr, request.scheme)) and None)
app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                      headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
print(*seen[0])
"""


@pytest.mark.parametrize(("module", "expected"), [
    ("fengqiao.wsgi_proxied", "203.0.113.9 https"), ("fengqiao.wsgi", "127.0.0.1 http")])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_proxy_headers(module, expected, database_url, tmp_path):
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_SECRET_KEY": TEST_SECRET,
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "i"), "FENGQIAO_PLUGINS": "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, module], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected
