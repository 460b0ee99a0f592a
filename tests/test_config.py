"""Settings come from FENGQIAO_* variables and every bad value is reported at start."""

from __future__ import annotations

import pytest

from fengqiao.config import ConfigError, load_settings

STRONG_KEY = "Zq3v9LmT2xR7bN1kW5yH8cJ4pF6dS0gA"  # production rejects one-character keys


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"FENGQIAO_INSTANCE_PATH": str(tmp_path)})
    assert "FENGQIAO_SECRET_KEY" in str(err.value)


def test_demo_and_testing_generate_a_secret(tmp_path):
    for mode in ("demo", "testing"):
        settings = load_settings(environ={"FENGQIAO_MODE": mode, "FENGQIAO_INSTANCE_PATH": str(tmp_path)})
        assert len(settings.secret_key) >= 32


def test_every_bad_value_is_listed_together(tmp_path):
    env = {
        "FENGQIAO_INSTANCE_PATH": str(tmp_path),
        "FENGQIAO_DATABASE_URL": "mysql://x",
        "FENGQIAO_REDIS_URL": "http://nope",
        "FENGQIAO_PLUGINS": "good,Bad Name",
        "FENGQIAO_THEME": "../etc",
        "FENGQIAO_SECRET_KEY": "short",
    }
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    problems = "\n".join(err.value.problems)
    for name in ["FENGQIAO_DATABASE_URL", "FENGQIAO_REDIS_URL", "FENGQIAO_PLUGINS",
                 "FENGQIAO_THEME", "FENGQIAO_SECRET_KEY"]:
        assert name in problems
    assert len(err.value.problems) == 5


def test_defaults(tmp_path):
    settings = load_settings(environ={"FENGQIAO_SECRET_KEY": STRONG_KEY, "FENGQIAO_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'fengqiao.db'}"
    assert settings.plugins is None  # "*" = every installed plugin
    assert settings.theme == "default"
    assert settings.jobs_backend == "inline"


def test_instance_defaults_to_cwd_instance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"FENGQIAO_MODE": "demo"})
    assert settings.instance_path == tmp_path / "instance"


def test_plugin_list_and_postgres_url_normalised(tmp_path):
    settings = load_settings(environ={
        "FENGQIAO_SECRET_KEY": STRONG_KEY, "FENGQIAO_INSTANCE_PATH": str(tmp_path),
        "FENGQIAO_PLUGINS": "points, volunteer", "FENGQIAO_DATABASE_URL": "postgresql://u@h/db",
        "FENGQIAO_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    assert settings.plugins == ("points", "volunteer")
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.jobs_backend == "redis"


def test_wsgi_module_builds_the_app(monkeypatch, tmp_path):
    import importlib
    import sys

    monkeypatch.setenv("FENGQIAO_SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("FENGQIAO_INSTANCE_PATH", str(tmp_path))
    sys.modules.pop("fengqiao.wsgi", None)
    wsgi = importlib.import_module("fengqiao.wsgi")
    assert wsgi.app.name == "fengqiao"
    sys.modules.pop("fengqiao.wsgi", None)
