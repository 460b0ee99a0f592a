"""A database outage: every request gets 503 with a Chinese message (JSON on the API, the
error page otherwise), never a 500, and the same app serves again once the database is back."""

from __future__ import annotations

import uuid

import pytest

from fengqiao.errors import OUTAGE_MESSAGE
from fengqiao.testing.plugin import app_settings_for_tests, login

GOOD_REQUEST = {
    "request_type": "complaint",
    "summary": "湖滨路烧烤店夜间油烟噪音扰民",
    "content": "每晚十点后油烟和噪音很大。",
    "caller_name": "陈德福",
    "caller_mobile": "13800138000",
    "id_card": "339901195203140111",
}
SUBMIT = "/api/v1/forms/livelihood-request/submissions"


def _assert_json_503(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.get_json()["errors"] == [
        {"pointer": "", "message": OUTAGE_MESSAGE, "code": "database_unavailable"}]
    assert response.headers["Retry-After"] == "5"


def _assert_page_503(response) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert OUTAGE_MESSAGE in response.get_data(as_text=True)


def test_an_unreachable_database_answers_503_not_500(tmp_path, database_url):
    from fengqiao.app import create_app

    url = ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere" if database_url.startswith("postgresql")
           else f"sqlite:///{tmp_path}/missing-dir/x.db")
    app = create_app(app_settings_for_tests(url, tmp_path))
    try:
        client = app.test_client()
        _assert_json_503(client.get("/api/v1/forms"))
        _assert_json_503(client.post(SUBMIT, json=GOOD_REQUEST))
        _assert_page_503(client.get("/forms"))
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["failing"] == ["database", "migrations"]
    finally:
        app.extensions["fengqiao.db"].dispose()


@pytest.fixture
def outage_app(pg_cluster, tmp_path):
    """An app with the demo county on the throwaway server, which the test may stop."""
    from fengqiao.app import create_app
    from fengqiao.db import make_engine
    from fengqiao.demo_data import load_demo_data
    from fengqiao.migrate import upgrade

    url = pg_cluster.create_database(f"outage_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(app_settings_for_tests(url, tmp_path))
    with app.app_context():
        load_demo_data()
    yield app
    app.extensions["fengqiao.db"].dispose()
    if not pg_cluster.running:
        pg_cluster.start()


def test_postgres_restart_gives_503_then_recovers_without_restarting_the_app(outage_app, pg_cluster):
    resident = outage_app.test_client()
    staff = outage_app.test_client()
    assert login(staff, "admin").status_code == 302

    def all_requests():
        return {
            "api_forms": resident.get("/api/v1/forms"),
            "submit": resident.post(SUBMIT, json=GOOD_REQUEST),
            "page_forms": resident.get("/forms"),
            "staff_queue": staff.get("/queues"),
            "staff_api": staff.get("/api/v1/cases"),
        }

    before = all_requests()  # also fills the pool with connections the restart will kill
    assert {k: r.status_code for k, r in before.items()} == {
        "api_forms": 200, "submit": 201, "page_forms": 200, "staff_queue": 200, "staff_api": 200}

    pg_cluster.stop()
    during = all_requests()
    for key in ("api_forms", "submit", "staff_api"):
        _assert_json_503(during[key])
    for key in ("page_forms", "staff_queue"):
        _assert_page_503(during[key])
    assert resident.get("/healthz").status_code == 503
    ready = resident.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["failing"]

    pg_cluster.start()
    after = all_requests()
    assert {k: r.status_code for k, r in after.items()} == {
        "api_forms": 200, "submit": 201, "page_forms": 200, "staff_queue": 200, "staff_api": 200}
    assert resident.get("/readyz").get_json()["status"] == "ready"
    for response in (before["submit"], after["submit"]):  # nothing from before the outage was lost
        number = response.get_json()["case_number"]
        assert staff.get(f"/api/v1/cases/{number}").get_json()["number"] == number
