"""A web process's statements are cancelled by PostgreSQL after ``statement_timeout_seconds``
(``fengqiao.wsgi`` sets it below gunicorn's worker timeout): the request gets 503 with its own
Chinese message, and the query does not keep computing after the worker gave up on it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.errors import TOO_SLOW_CODE, TOO_SLOW_MESSAGE
from fengqiao.testing.plugin import app_settings_for_tests


@pytest.fixture
def slow_app(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is a PostgreSQL setting")
    from fengqiao.access import public
    from fengqiao.app import create_app
    from fengqiao.db import db

    app = create_app(app_settings_for_tests(database_url, tmp_path, statement_timeout_seconds=1))

    @app.get("/api/v1/test-slow")
    @public
    def _slow():
        db.execute(sa.text("SELECT pg_sleep(3)"))
        return {"done": True}

    @app.get("/test-slow")
    @public
    def _slow_page():
        db.execute(sa.text("SELECT pg_sleep(3)"))
        return "done"

    yield app
    app.extensions["fengqiao.db"].dispose()


def test_a_statement_over_the_web_timeout_is_cancelled_with_503(slow_app):
    client = slow_app.test_client()
    response = client.get("/api/v1/test-slow")
    assert response.status_code == 503
    assert response.get_json()["errors"] == [{"pointer": "", "message": TOO_SLOW_MESSAGE, "code": TOO_SLOW_CODE}]
    page = client.get("/test-slow")
    assert page.status_code == 503 and TOO_SLOW_MESSAGE in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # the pool still serves


def test_the_wsgi_entry_point_sets_a_timeout_below_gunicorns():
    from fengqiao import gunicorn_conf

    assert 0 < gunicorn_conf.STATEMENT_TIMEOUT_SECONDS < gunicorn_conf.timeout


def test_other_processes_have_no_statement_timeout(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is a PostgreSQL setting")
    from fengqiao.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()
