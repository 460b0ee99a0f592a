"""Outbound requests (webhooks, robots, gateways) never reach a private or loopback address
unless the operator listed it (FENGQIAO_WEBHOOK_ALLOW_HOSTS), and never follow a redirect."""

from __future__ import annotations

import http.server
import threading

import pytest

from fengqiao.app import create_app
from fengqiao.config import ConfigError, load_settings
from fengqiao.notifications.protocol import Failed
from fengqiao.outbound import Answer, http_failure, post_json, url_problem
from fengqiao.testing.plugin import app_settings_for_tests

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _app(database_url, tmp_path, allow):
    return create_app(app_settings_for_tests(database_url, tmp_path, webhook_allow_hosts=allow))


@pytest.fixture
def receiver():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            hits.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            status = 302 if self.path == "/moved" else 200
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@SQLITE
@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.org/x", "请填写以 http:// 或 https:// 开头的完整地址"),
    ("http:///nohost", "请填写以 http:// 或 https:// 开头的完整地址"),
    ("https://user:pw@example.org/", "地址中不能包含用户名或密码"),
    ("https://exa mple.org/", "请填写以 http:// 或 https:// 开头的完整地址"),
    ("http://127.0.0.1:6379/", "127.0.0.1 是内网或本机地址"),
    ("http://10.1.2.3/hook", "10.1.2.3 是内网或本机地址"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 是内网或本机地址"),
    ("http://[::1]:5432/", "::1 是内网或本机地址"),
    ("http://localhost/", "localhost 是内网或本机地址"),
    ("http://8.8.8.8/hook", None),  # a public address passes (nothing is called here)
])
def test_private_loopback_and_malformed_urls_are_refused_by_default(database_url, tmp_path, url, problem):
    with _app(database_url, tmp_path, []).app_context():
        found = url_problem(url)
    assert (found is None) if problem is None else (found or "").startswith(problem)


@SQLITE
def test_listed_hosts_and_networks_pass(database_url, tmp_path):
    with _app(database_url, tmp_path, ["10.0.0.0/8", "localhost"]).app_context():
        assert url_problem("http://10.1.2.3/hook") is None
        assert url_problem("http://localhost:8080/hook") is None
        assert url_problem("http://192.168.1.5/hook") is not None


@SQLITE
def test_a_refused_url_is_never_called_and_a_redirect_is_not_followed(database_url, tmp_path, receiver):
    base, hits = receiver
    with _app(database_url, tmp_path, []).app_context():
        refused = post_json(base + "/hook", {"a": 1})
    assert isinstance(refused, Failed) and "FENGQIAO_WEBHOOK_ALLOW_HOSTS" in refused.reason and hits == []
    with _app(database_url, tmp_path, ["127.0.0.1"]).app_context():
        answer = post_json(base + "/hook", {"事项": 1})
        moved = post_json(base + "/moved", {"a": 1})
    assert isinstance(answer, Answer) and answer.status == 200 and answer.json() == {"ok": True}
    assert hits[0] == ("/hook", '{"事项": 1}'.encode())
    assert isinstance(moved, Answer) and moved.status == 302 and len(hits) == 2  # not followed
    assert isinstance(http_failure(moved, "接收端"), Failed)


def test_the_setting_is_read_from_the_environment_and_checked():
    env = {"FENGQIAO_MODE": "testing", "FENGQIAO_WEBHOOK_ALLOW_HOSTS": "10.0.0.0/8， hub.internal"}
    assert load_settings(environ=env).webhook_allow_hosts == ("10.0.0.0/8", "hub.internal")
    assert load_settings(environ={"FENGQIAO_MODE": "testing"}).webhook_allow_hosts == ("127.0.0.1", "::1", "localhost")
    production = {"FENGQIAO_SECRET_KEY": "k" * 8 + "Zq3#Lm9$Tv1!Pw7^Rx5&Yb2*Nc4@", "FENGQIAO_MODE": "production"}
    assert load_settings(environ=production).webhook_allow_hosts == ()
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_HOSTS"):
        load_settings(environ={**env, "FENGQIAO_WEBHOOK_ALLOW_HOSTS": "a b"})
