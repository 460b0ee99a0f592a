"""Sign-in, sessions and friendly Chinese pages, without stack traces."""

from __future__ import annotations

import pytest

from fengqiao.access import public
from fengqiao.testing.plugin import csrf_token, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_login_dashboard_logout(client, demo):
    response = login(client, "shenli")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page and "揽月社区" in page and "沈丽" in page
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/queues").status_code == 302  # signed out (`/` is now the residents' home)


def test_login_without_csrf_token_is_refused(client, demo):
    from fengqiao.demo_data import DEMO_PASSWORD

    response = client.post("/login", data={"username": "shenli", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert client.get("/queues").status_code == 302


def test_wrong_password_message_and_empty_fields(client, demo):
    wrong = login(client, "shenli", "bad-password1")
    assert wrong.status_code == 422 and "用户名或密码错误" in wrong.get_data(as_text=True)
    empty = client.post("/login", data={"csrf_token": csrf_token(client), "username": "", "password": ""})
    assert empty.status_code == 422 and "此项为必填项" in empty.get_data(as_text=True)


def test_slow_down_message_on_the_login_page(client, demo):
    for _ in range(5):
        login(client, "liuyang", "bad-password1")
    page = login(client, "liuyang").get_data(as_text=True)  # this address waits; the account is not locked
    assert "登录失败次数过多，请" in page and "分钟后再试" in page and "账户已锁定" not in page


def test_next_parameter_cannot_redirect_off_site(client, demo):
    from fengqiao.demo_data import DEMO_PASSWORD

    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/", data={
        "csrf_token": token, "username": "shenli", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"


def test_html_errors_are_friendly_chinese_pages(app, client, demo):
    @public
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "未找到" in missing.get_data(as_text=True)
    failure = client.get("/boom")
    text = failure.get_data(as_text=True)
    assert failure.status_code == 500 and "系统出现错误" in text
    assert "secret internals" not in text and "Traceback" not in text


def test_user_create_page_shows_field_errors_and_keeps_input(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "shenli", "display_name": "保留我", "password": "abc",
        "role": "staff", "org": "339901001001"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "用户名 shenli 已存在" in html and "密码至少 10 位" in html and "保留我" in html
    created = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "xinren", "display_name": "新人", "password": "Passw0rd1xy",
        "role": "grid_worker", "org": "339901001001001"})
    assert created.status_code == 302
    assert "新人" in client.get("/admin/users/xinren").get_data(as_text=True)


def test_healthz(client, demo):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "jobs": "inline"}


def test_healthz_503_when_database_is_down(tmp_path, database_url):
    from fengqiao.app import create_app

    url = ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere" if database_url.startswith("postgresql")
           else f"sqlite:///{tmp_path}/missing-dir/x.db")
    app = create_app({"mode": "testing", "database_url": url, "instance_path": str(tmp_path / "i"),
                      "redis_url": "redis://127.0.0.1:6379/13"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable", "jobs": "redis"}
