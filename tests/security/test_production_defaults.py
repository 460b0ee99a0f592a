"""Production defaults: the walkthrough plugin ``hello`` (which lists every greeting's name
to any signed-in account) loads only in demo and testing mode, whatever FENGQIAO_PLUGINS
says, and request logs (the app's, Werkzeug's and gunicorn's access log) never keep a query
string, where residents' names and numbers travel (``?q=李小明``)."""

from __future__ import annotations

import logging
import urllib.request
from datetime import timedelta
from urllib.parse import quote

import pytest

from fengqiao.app import create_app
from fengqiao.plugins.loader import plugin_report
from fengqiao.testing.plugin import TEST_SECRET

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NAME = "李小明"


def _app(database_url, tmp_path, mode: str, plugins):
    return create_app({"mode": mode, "database_url": database_url, "instance_path": str(tmp_path / mode),
                       "secret_key": TEST_SECRET, "redis_url": None, "plugins": plugins})


@SQLITE
@pytest.mark.parametrize("plugins", [None, ["hello"]], ids=["all installed", "named"])
def test_hello_is_not_loaded_in_production(database_url, tmp_path, plugins):
    app = _app(database_url, tmp_path, "production", plugins)
    try:
        assert "hello" not in app.extensions["fengqiao.plugins"]
        assert app.test_client().get("/p/hello/wall").status_code == 404
        with app.app_context():
            hello = next(p for p in plugin_report(app) if p["name"] == "hello")
        assert hello["state"] == "disabled"
        assert hello["reason"] == "示例插件，仅在演示（demo）和测试模式下启用"
        if plugins is None:  # the other installed plugins still load with "*"
            assert {"points", "vanguard", "volunteer", "certificates", "grid"} <= set(app.extensions["fengqiao.plugins"])
    finally:
        app.extensions["fengqiao.db"].dispose()


@SQLITE
@pytest.mark.parametrize("mode", ["demo", "testing"])
def test_hello_is_loaded_in_demo_and_testing(database_url, tmp_path, mode):
    app = _app(database_url, tmp_path, mode, None)
    try:
        assert "hello" in app.extensions["fengqiao.plugins"]
        with app.app_context():
            hello = next(p for p in plugin_report(app) if p["name"] == "hello")
        assert hello["state"] == "enabled"
    finally:
        app.extensions["fengqiao.db"].dispose()


def test_plugins_declare_demo_only():
    from fengqiao_hello import HelloPlugin

    from fengqiao.sdk import Plugin

    assert Plugin.demo_only is False and HelloPlugin.demo_only is True


# -- request logs -------------------------------------------------------------------------------

@SQLITE
def test_the_development_server_logs_no_query_string(live_server, caplog):
    """``fengqiao run`` / ``fengqiao demo`` serve with Werkzeug, whose request line carried the
    query string into the log."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="werkzeug")  # whatever an earlier test left it at
    with urllib.request.urlopen(f"{live_server}/login?q={quote(NAME)}&page=2", timeout=10) as response:
        assert response.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /login HTTP/1.1" in line for line in lines), lines
    assert NAME not in caplog.text and quote(NAME) not in caplog.text and "page=2" not in caplog.text


def test_gunicorn_access_log_format_has_no_query_string_or_referrer():
    """An operator who turns gunicorn's access log on (``--access-logfile -``) gets the path,
    never the query string or the Referer (the previous page's query string)."""
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    import fengqiao.gunicorn_conf as conf

    cfg = Config()
    cfg.set("access_log_format", getattr(conf, "access_log_format", cfg.access_log_format))
    logger = Logger(cfg)
    query = f"q={quote(NAME)}&id_card=110101199003071234"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/cases?{query}", "PATH_INFO": "/cases",
               "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"https://fengqiao.example.gov.cn/queues?{query}", "HTTP_USER_AGENT": "curl",
               "HTTP_X_REQUEST_ID": "lb-0123456789abcdef"}
    request = SimpleNamespace(headers=[("X-REQUEST-ID", "lb-0123456789abcdef")], method="GET", uri=f"/cases?{query}",
                              path="/cases", query=query, version=(1, 1))
    response = SimpleNamespace(status="200 OK", status_code=200, sent=10, headers=[], response_length=10)
    line = cfg.access_log_format % logger.atoms(response, request, environ, timedelta(milliseconds=12))
    assert "GET /cases HTTP/1.1" in line and " 200 " in line and "lb-0123456789abcdef" in line, line
    assert "q=" not in line and "110101" not in line and "queues" not in line, line


def test_gunicorn_access_lines_are_stripped_even_with_a_custom_format(caplog):
    """A format given on the command line (``%(r)s`` has the query) is stripped when logged."""
    from fengqiao.logs import install_scrubbing

    install_scrubbing()
    caplog.set_level(logging.INFO)
    logging.getLogger("gunicorn.access").info('%s "%s" %s', "127.0.0.1", f"GET /cases?q={NAME} HTTP/1.1", 200)
    assert NAME not in caplog.text and '"GET /cases HTTP/1.1" 200' in caplog.text


def test_the_shipped_nginx_config_logs_no_query_string_or_referrer():
    """nginx's default ``combined`` format keeps ``$request`` (with ``?q=李小明``) and the Referer."""
    import re
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text()
    code = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    formats = dict(re.findall(r"log_format\s+(\w+)\s+((?:'[^']*'\s*)+);", code))
    assert "fengqiao" in formats
    logs = re.findall(r"access_log\s+([^;]+);", code)
    assert logs and all(line.split()[-1] in ("fengqiao", "off") for line in logs)
    for variable in ("$request ", "$request'", "$request_uri", "$args", "$query_string", "$http_referer"):
        assert variable not in formats["fengqiao"]
    assert "$uri" in formats["fengqiao"]


@SQLITE
def test_production_hashes_passwords_with_argon2s_own_parameters(database_url, tmp_path, monkeypatch):
    """The suite hashes with cheap parameters (``use_fast_hashing``, testing mode only); this
    checks once that a production process keeps argon2-cffi's own (RFC 9106) parameters."""
    import importlib

    from argon2 import PasswordHasher

    from fengqiao.accounts import passwords

    monkeypatch.setattr(passwords, "_hasher", passwords._hasher)  # the cheap ones come back after
    monkeypatch.setattr(passwords, "_DUMMY_HASH", passwords._DUMMY_HASH)
    importlib.reload(passwords)  # as a production process starts: no testing app switched it yet
    app = _app(database_url, tmp_path, "production", [])
    app.extensions["fengqiao.db"].dispose()
    stored = passwords.hash_password("Secret12345")
    default = PasswordHasher()
    assert stored.startswith(f"$argon2id$v=19$m={default.memory_cost},t={default.time_cost},p={default.parallelism}$")
    assert default.memory_cost >= 19 * 1024 and default.time_cost >= 2  # OWASP's floor for argon2id
    assert passwords.verify_password(stored, "Secret12345") and not passwords.verify_password(stored, "Secret12346")
