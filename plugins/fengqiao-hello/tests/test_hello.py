"""fengqiao-hello, tested the way any plugin author can: only ``fengqiao.testing`` fixtures.

``app`` runs each test on SQLite and on PostgreSQL; the ``hello_greetings`` table comes from
the plugin's own migration, which the fixture applies with the core's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fengqiao.sdk.events import submission_received
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token, imports_outside_the_sdk, submit_form

from fengqiao_hello.models import HelloGreeting

pytestmark = pytest.mark.plugins("hello")  # the app fixture loads no plugin unless asked

GREETING = {"name": "王阿姨", "message": "社区工作人员辛苦了！"}


def _form_keys(client) -> set[str]:
    response = client.get("/api/v1/forms")
    assert response.status_code == 200
    return {f["key"] for f in response.get_json()}


def _post(app, data=None):
    """Submit the public form anonymously (a fresh client, as a resident would)."""
    return app.test_client().post("/api/v1/forms/hello-greeting/submissions?org=339901001001", json=data or GREETING)


def _greet(app) -> str:
    """A greeting that must be accepted (201); returns its case number."""
    return submit_form(app.test_client(), "hello-greeting", GREETING, org="339901001001")["case_number"]


def _stored(app) -> list[str]:
    with app.app_context():
        return list(db.scalars(sa.select(HelloGreeting.case_number).order_by(HelloGreeting.id)))


def _switch(client, enabled: bool) -> None:
    token = csrf_token(client, "/admin/plugins")
    response = client.post("/admin/plugins/hello/switch",
                           data={"enabled": "1" if enabled else "0", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_form_is_published_and_listed_to_staff_only(client, login_as):
    """A walkthrough (demo-only plugin): residents are not offered its form, staff are."""
    assert "hello-greeting" not in _form_keys(client)
    assert "hello-greeting" not in client.get("/forms").get_data(as_text=True)
    login_as("shenli")
    forms = {f["key"]: f for f in client.get("/api/v1/forms").get_json()}
    assert forms["hello-greeting"]["title"] == "问候"
    assert forms["hello-greeting"]["access"] == "public"
    schema = client.get("/api/v1/forms/hello-greeting").get_json()["schema"]
    assert schema["required"] == ["name"]


def test_submission_is_stored_by_the_receiver(app, demo):
    number = _greet(app)
    assert _stored(app) == [number]


def test_invalid_greetings_are_rejected_and_not_stored(app, demo):
    assert _post(app, {"message": "没有姓名"}).status_code == 422
    assert _stored(app) == []


def test_receiver_ignores_other_forms_and_repeated_signals(app, demo):
    number = _greet(app)
    with app.test_request_context():
        for form_key, case_number in [("grid-incident", "WG-1"), ("hello-greeting", number)]:
            submission_received.send(app, form_key=form_key, form_version=1, submission_id=0,
                                     case_number=case_number, channel="api")
    assert _stored(app) == [number]


def test_index_needs_login(app, client, login_as):
    response = client.get("/p/hello/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    number = _greet(app)
    login_as("zhangmin")  # a grid worker: signed in is enough for this page
    page = client.get("/p/hello/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "收到的问候" in html and number in html
    assert 'href="/p/hello/"' in html  # the menu item


def test_wall_is_public(client, demo):
    response = client.get("/p/hello/wall")
    assert response.status_code == 200
    assert "问候墙" in response.get_data(as_text=True)


def test_api_route_needs_the_permission_and_is_documented(app, client, bearer):
    assert client.get("/api/v1/p/hello/greetings").status_code == 401
    assert client.get("/api/v1/p/hello/greetings", headers=bearer("zhangmin")).status_code == 403
    number = _greet(app)
    response = client.get("/api/v1/p/hello/greetings", headers=bearer("shenli"))  # staff
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["case_number"] for i in items] == [number]
    assert set(items[0]) == {"id", "case_number", "name", "created_at"}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/p/hello/greetings"]


def test_widget_on_the_dashboard(client, login_as):
    login_as("shenli")
    assert "收到的问候" in client.get("/").get_data(as_text=True)


def test_settings_change_the_greeting(client, login_as):
    assert "欢迎！" in client.get("/p/hello/wall").get_data(as_text=True)
    login_as("admin")
    token = csrf_token(client, "/admin/plugins/hello")
    response = client.post("/admin/plugins/hello", data={"greeting_text": "你好", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "你好！" in client.get("/p/hello/wall").get_data(as_text=True)


def test_disable_hides_everything_and_enable_restores_it(app, client, login_as):
    first = _greet(app)
    login_as("admin")

    _switch(client, enabled=False)
    assert client.get("/p/hello/").status_code == 404
    assert client.get("/p/hello/wall").status_code == 404
    assert client.get("/api/v1/p/hello/greetings").status_code == 404
    assert "hello-greeting" not in _form_keys(client)
    assert _post(app).status_code == 404
    assert 'href="/p/hello/"' not in client.get("/").get_data(as_text=True)
    report = {p["name"]: p for p in client.get("/api/v1/plugins").get_json()}
    assert report["hello"]["state"] == "disabled"
    # Even if the signal is sent, the receiver of a disabled plugin does not run.
    with app.test_request_context():
        submission_received.send(app, form_key="hello-greeting", form_version=1,
                                 submission_id=0, case_number="X-1", channel="api")
    assert _stored(app) == [first]

    _switch(client, enabled=True)
    assert client.get("/p/hello/").status_code == 200
    assert "hello-greeting" in _form_keys(client)
    second = _greet(app)
    assert _stored(app) == [first, second]  # the earlier rows are intact
    items = client.get("/api/v1/p/hello/greetings").get_json()["items"]
    assert [i["case_number"] for i in items] == [second, first]


def test_cli_count(app, demo):
    from click.testing import CliRunner

    from fengqiao_hello.cli import hello

    _greet(app)
    # cli_app() builds the app from FENGQIAO_* variables: point them at the test database.
    url = app.extensions["fengqiao.db"].engine.url.render_as_string(hide_password=False)
    env = {"FENGQIAO_MODE": "testing", "FENGQIAO_DATABASE_URL": url,
           "FENGQIAO_INSTANCE_PATH": app.instance_path, "FENGQIAO_PLUGINS": "hello"}
    result = CliRunner().invoke(hello, ["count"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1"


def test_imports_only_the_sdk_from_the_core():
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_hello") == []


def test_demo_data_adds_one_greeting_once(app, demo):
    from fengqiao.sdk.testing import load_plugin_demo

    assert load_plugin_demo(app) == ["hello"]
    load_plugin_demo(app)
    with app.app_context():
        assert [g.name for g in db.scalars(sa.select(HelloGreeting))] == ["王阿姨"]
