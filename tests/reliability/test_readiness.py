"""``/readyz``: ready only when the database answers, the schema is at the migrations' head
and Redis (when configured) answers; otherwise 503 naming each failing check."""

from __future__ import annotations

import pytest

from fengqiao.testing.plugin import app_settings_for_tests


def _app(url: str, tmp_path, **overrides):
    from fengqiao.app import create_app

    return create_app(app_settings_for_tests(url, tmp_path, **overrides))


def test_ready_without_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "failing": [], "checks": {
        "database": "ok", "migrations": "ok", "redis": "not_configured"}}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_not_ready_before_migrations(empty_database_url, tmp_path):
    from fengqiao.db import make_engine
    from fengqiao.migrate import upgrade

    app = _app(empty_database_url, tmp_path)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["migrations"] == "pending"
        assert response.get_json()["failing"] == ["migrations"]
        engine = make_engine(empty_database_url)
        upgrade(engine)
        engine.dispose()
        assert app.test_client().get("/readyz").status_code == 200  # no restart needed
    finally:
        app.extensions["fengqiao.db"].dispose()


def test_redis_is_checked_when_configured(database_url, tmp_path, redis_proc):
    app = _app(database_url, tmp_path, redis_url=redis_proc.url)
    try:
        client = app.test_client()
        assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"
        redis_proc.stop()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["failing"] == ["redis"]
        assert response.get_json()["checks"] == {
            "database": "ok", "migrations": "ok", "redis": "unreachable"}
        assert client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        app.extensions["fengqiao.db"].dispose()


def test_readyz_is_public_and_needs_no_session(app):
    from fengqiao.access import access_of

    assert access_of(app, "web.readyz").kind == "public"
