"""The ``fengqiao`` command as an admin runs it, on real databases: in-process through
Click's runner, and as the installed executable for the entry point, a fresh database's
``db upgrade`` and the worker (the subprocess tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fengqiao.testing.cli import run_cli

FENGQIAO = str(Path(sys.executable).with_name("fengqiao"))


def run(args, env_extra=None, input_text=None, cwd=None):
    return run_cli(args, env_extra, input_text, cwd)


def run_process(args, env_extra=None, cwd=None):
    """The real ``fengqiao`` executable in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(env_extra or {})
    return subprocess.run([FENGQIAO, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def cli_env(empty_database_url, tmp_path):
    """A new, empty database (for ``db upgrade`` itself); testing mode: cheap argon2
    parameters, so loading 20 demo accounts stays fast."""
    return {"FENGQIAO_DATABASE_URL": empty_database_url, "FENGQIAO_INSTANCE_PATH": str(tmp_path / "inst"),
            "FENGQIAO_MODE": "testing"}


@pytest.fixture
def migrated_env(database_url, tmp_path):
    """A database the migrations have already run on (``db upgrade`` then only checks)."""
    return {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_INSTANCE_PATH": str(tmp_path / "inst"),
            "FENGQIAO_MODE": "testing"}


@pytest.mark.slow
@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_db_upgrade_is_idempotent(cli_env):
    first = run_process(["db", "upgrade"], cli_env)
    assert first.returncode == 0, first.stderr
    assert "已升级到" in first.stdout
    second = run(["db", "upgrade"], cli_env)
    assert second.returncode == 0, second.stderr
    assert "最新" in second.stdout


def test_users_create_then_token(migrated_env, tmp_path):
    assert run(["db", "upgrade"], migrated_env).returncode == 0
    assert run(["demo-data", "load"], migrated_env).returncode == 0
    created = run(["users", "create", "--username", "wangwu", "--password", "-", "--role", "staff",
                   "--org", "339901001001"], migrated_env, input_text="Secret12345\n")
    assert created.returncode == 0, created.stderr

    dup = run(["users", "create", "--username", "wangwu", "--password", "Secret12345", "--role", "staff",
               "--org", "339901001001"], migrated_env)
    assert dup.returncode == 1 and "已存在" in dup.stderr

    unknown = run(["users", "create", "--username", "zhao", "--password", "Secret12345", "--role", "staff",
                   "--org", "000000"], migrated_env)
    assert unknown.returncode == 1 and "000000" in unknown.stderr

    from fengqiao.app import create_app

    app = create_app({"mode": "testing", "database_url": migrated_env["FENGQIAO_DATABASE_URL"],
                      "instance_path": str(tmp_path / "inst")})
    client = app.test_client()
    ok = client.post("/api/v1/auth/token", json={"username": "wangwu", "password": "Secret12345"})
    assert ok.status_code == 200 and ok.get_json()["token"].startswith("fq_")
    bad = client.post("/api/v1/auth/token", json={"username": "wangwu", "password": "wrong-1"})
    assert bad.status_code == 401
    assert bad.get_json()["errors"][0]["message"] == "用户名或密码错误"
    app.extensions["fengqiao.db"].dispose()


def test_usage_errors_exit_2(tmp_path):
    assert run_process(["users", "create"], {"FENGQIAO_MODE": "demo"}, cwd=tmp_path).returncode == 2
    assert run(["no-such-command"], cwd=tmp_path).returncode == 2


def test_serving_without_secret_key_is_refused(tmp_path, monkeypatch):
    import fengqiao.cli

    monkeypatch.setattr(fengqiao.cli, "_serve", lambda *a: pytest.fail("served without a secret key"))
    result = run(["run", "--port", "5999"], {"FENGQIAO_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 1
    assert "FENGQIAO_SECRET_KEY" in result.stderr


def test_bad_environment_exits_1_naming_the_variable(tmp_path):
    result = run(["db", "upgrade"], {"FENGQIAO_DATABASE_URL": "oracle://x", "FENGQIAO_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 1
    assert "FENGQIAO_DATABASE_URL" in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_orgs_and_plugins_list_json(migrated_env):
    assert run(["db", "upgrade"], migrated_env).returncode == 0
    first = run(["demo-data", "load"], migrated_env)
    again = run(["demo-data", "load"], migrated_env)
    assert "新增 0 个单位、0 个用户" in again.stdout, (first.stdout, again.stdout)
    units = json.loads(run(["orgs", "list", "--json"], migrated_env).stdout)
    by_code = {u["code"]: u for u in units}
    assert by_code["339901"]["level"] == "county" and by_code["339901"]["parent"] is None
    assert by_code["339901001001"] == {**by_code["339901001001"], "parent": "339901001",
                                       "level": "community", "name": "揽月社区"}
    assert sum(u["level"] == "grid" for u in units) == 8
    assert {"code", "name", "parent", "level"} <= set(units[0])
    plugins = run(["plugins", "list", "--json"], migrated_env)
    assert plugins.returncode == 0
    assert isinstance(json.loads(plugins.stdout), list)


def test_worker_without_redis_explains(cli_env):
    result = run(["worker", "--burst"], cli_env)
    assert result.returncode == 1
    assert "FENGQIAO_REDIS_URL" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_burst_on_real_redis(migrated_env, redis_server):
    assert run(["db", "upgrade"], migrated_env).returncode == 0
    result = run_process(["worker", "--burst"], {**migrated_env, "FENGQIAO_REDIS_URL": redis_server.url})
    assert result.returncode == 0, result.stderr
