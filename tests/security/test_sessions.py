"""Sign-in hardening: slow-down per account and address and the per-address limit (in memory
and shared through Redis), session rotation on password and privilege change, idle timeout, the password
policy, the optional TOTP second factor, revocable API tokens and the secret-key rules."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from fengqiao.accounts.login_guard import ADDRESS_LOCKED
from fengqiao.accounts.passwords import policy_problem
from fengqiao.config import ConfigError, load_settings
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.testing.plugin import api_token, app_settings_for_tests, csrf_token, login

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NEW_PASSWORD = "Qiaodong#Lamp47"


def _user(app, username: str):
    from fengqiao.db import db
    from fengqiao.models import User

    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        db.expunge(user)
        return user


# --- password policy


@pytest.mark.parametrize(("password", "username", "message"), [
    ("Ab1Ab1Ab1", None, "密码至少 10 位"),
    ("abcdefghijkl", None, "至少两类字符"),
    ("1234567890123", None, "至少两类字符"),
    ("shenli-2026-ok", "shenli", "不能包含用户名"),
    ("Password123", None, "过于常见"),
    ("woaini1314", None, "过于常见"),
    ("x" * 129, None, "不能超过 128 位"),
])
def test_password_policy_messages(password, username, message):
    assert message in (policy_problem(password, username) or "")


def test_password_policy_accepts_a_reasonable_password():
    assert policy_problem(NEW_PASSWORD, "shenli") is None
    assert policy_problem(DEMO_PASSWORD, "shenli") is None  # the demo accounts' password


# --- lockout


@SQLITE
def test_address_lockout_across_usernames(tmp_path, database_url):
    """Guessing across many accounts from one address stops too, with a Chinese message."""
    from fengqiao.app import create_app
    from fengqiao.demo_data import load_demo_data

    app = create_app(app_settings_for_tests(database_url, tmp_path, rate_limits={"login_failures": "3/15 minutes"}))
    with app.app_context():
        load_demo_data()
    client = app.test_client()
    for username in ("shenli", "zhangmin", "nobody"):
        assert login(client, username, "Wrong-password-1").status_code == 422
    blocked = login(client, "ducha")  # the right password, but this address is blocked
    assert blocked.status_code == 422 and ADDRESS_LOCKED in blocked.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"username": "ducha", "password": DEMO_PASSWORD})
    assert api.status_code == 401 and api.get_json()["errors"][0]["code"] == "address_locked"
    other = app.test_client()
    ok = other.post("/api/v1/auth/token", json={"username": "ducha", "password": DEMO_PASSWORD},
                    environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert ok.status_code == 200  # another address is not affected
    app.extensions["fengqiao.db"].dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_address_lockout_is_shared_by_processes_through_redis(tmp_path, database_url, redis_server):
    """Two app instances (two gunicorn workers) on one Redis count the same failures."""
    import redis

    from fengqiao.app import create_app
    from fengqiao.demo_data import load_demo_data

    redis.Redis.from_url(redis_server.url).flushdb()
    config = dict(redis_url=redis_server.url, rate_limits={"login_failures": "4/15 minutes"})
    first = create_app(app_settings_for_tests(database_url, tmp_path / "a", **config))
    second = create_app(app_settings_for_tests(database_url, tmp_path / "b", **config))
    with first.app_context():
        load_demo_data()
    bad = {"username": "shenli", "password": "Wrong-password-1"}
    for app in (first, second, first, second):
        assert app.test_client().post("/api/v1/auth/token", json=bad).status_code == 401
    refused = second.test_client().post("/api/v1/auth/token", json={"username": "ducha", "password": DEMO_PASSWORD})
    assert refused.status_code == 401 and refused.get_json()["errors"][0]["code"] == "address_locked"
    for app in (first, second):
        app.extensions["fengqiao.db"].dispose()
    redis.Redis.from_url(redis_server.url).flushdb()


@SQLITE
def test_guesses_slow_one_address_down_without_locking_the_account(client, login_as):
    """Round 2: no account lockout any more (anyone could lock anyone out); see
    test_sessions_round2.py for the same answers to unknown usernames."""
    other = client.application.test_client()
    for _ in range(5):
        login(other, "liuyang", "Wrong-password-1")
    slowed = login(other, "liuyang").get_data(as_text=True)
    assert "登录失败次数过多，请" in slowed and "账户已锁定" not in slowed
    login_as("admin")
    assert "解除锁定" not in client.get("/admin/users/liuyang").get_data(as_text=True)
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert login(elsewhere, "liuyang").status_code == 302


# --- sessions


def _change_password(client, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={
        "csrf_token": token, "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm})


@SQLITE
def test_password_change_page_messages_and_session_rotation(app, client, login_as):
    login_as("shenli")
    laptop = app.test_client()
    assert login(laptop, "shenli").status_code == 302
    assert laptop.get("/").status_code == 200
    wrong = _change_password(client, "not-my-password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    weak = _change_password(client, DEMO_PASSWORD, "shenli12345")
    assert weak.status_code == 422 and "不能包含用户名" in weak.get_data(as_text=True)
    mismatch = _change_password(client, DEMO_PASSWORD, NEW_PASSWORD, "Something-else-9")
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.get_data(as_text=True)
    done = _change_password(client, DEMO_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # this browser signed in again under the new epoch
    stale = laptop.get("/queues")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]  # the other one is out
    assert login(app.test_client(), "shenli", NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "shenli").status_code == 422


def test_privilege_change_ends_older_sessions(app, client, login_as):
    from fengqiao.db import db
    from fengqiao.models import Membership, OrgUnit, User

    login_as("zhangmin")
    assert client.get("/queues").status_code == 200
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "zhangmin"))
        community = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == "339901001001"))
        user.memberships.append(Membership(org=community, role="staff"))
        db.commit()
    assert client.get("/queues").status_code == 302  # signed out: sign in again for the new role
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "zhangmin"))
        before = user.session_epoch
        user.memberships.remove(next(m for m in user.memberships if m.role == "staff"))
        db.commit()
        assert db.scalar(sa.select(User.session_epoch).where(User.username == "zhangmin")) == before + 1


@SQLITE
def test_login_starts_a_fresh_session(client, demo):
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by-an-attacker"
    assert login(client, "shenli").status_code == 302
    with client.session_transaction() as after:
        assert "planted" not in after and after["_user_id"].startswith(str(_user(client.application, "shenli").id))


@SQLITE
def test_idle_timeout_signs_out(app, client, login_as, monkeypatch):
    import fengqiao.headers as headers

    login_as("shenli")
    assert client.get("/").status_code == 200
    now = headers.time.time()
    monkeypatch.setattr(headers.time, "time", lambda: now + 29 * 60)
    assert client.get("/").status_code == 200  # still within 30 minutes (and this refreshes it)
    monkeypatch.setattr(headers.time, "time", lambda: now + 29 * 60 + 31 * 60)
    expired = client.get("/queues")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    page = client.get(expired.headers["Location"]).get_data(as_text=True)
    assert "超过 30 分钟未操作" in page
    assert client.get("/queues").status_code == 302


@SQLITE
def test_idle_timeout_answers_the_api_in_json(client, login_as, monkeypatch):
    import fengqiao.headers as headers

    login_as("shenli")
    assert client.get("/api/v1/cases").status_code == 200
    later = headers.time.time() + 31 * 60
    monkeypatch.setattr(headers.time, "time", lambda: later)
    expired = client.get("/api/v1/cases")
    assert expired.status_code == 401 and expired.get_json()["errors"][0]["code"] == "session_expired"


def test_idle_minutes_setting_is_validated():
    for bad in ("0", "abc", "2000"):
        with pytest.raises(ConfigError, match="FENGQIAO_SESSION_IDLE_MINUTES"):
            load_settings(environ={"FENGQIAO_MODE": "testing", "FENGQIAO_SESSION_IDLE_MINUTES": bad})
    assert load_settings(environ={"FENGQIAO_MODE": "testing",
                                  "FENGQIAO_SESSION_IDLE_MINUTES": "15"}).session_idle_minutes == 15


# --- TOTP


def _enable_totp(client) -> str:
    page = client.get("/account/totp").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    assert 'src="data:image/png;base64,' in page  # the QR code, inline as data: (CSP img-src)
    wrong = client.post("/account/totp", data={"csrf_token": csrf_token(client, "/account/totp"), "code": "000000"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    done = client.post("/account/totp", data={"csrf_token": csrf_token(client, "/account/totp"), "code": code})
    assert done.status_code == 302, done.get_data(as_text=True)
    return secret


@SQLITE
def test_totp_setup_and_sign_in_with_the_second_factor(app, client, login_as):
    login_as("admin")
    secret = _enable_totp(client)
    assert client.get("/").status_code == 200  # the enabling session continues
    assert "已开启" in client.get("/account/totp").get_data(as_text=True)

    browser = app.test_client()
    step_one = login(browser, "admin")
    assert step_one.status_code == 302 and step_one.headers["Location"].endswith("/login/totp")
    assert browser.get("/queues").status_code == 302  # not signed in yet
    token = csrf_token(browser, "/login/totp")
    wrong = browser.post("/login/totp", data={"csrf_token": token, "code": "123456"})
    assert wrong.status_code == 422 and "动态验证码不正确" in wrong.get_data(as_text=True)
    # the code the setup used was spent; wait for the authenticator's next one
    from fengqiao.accounts import security

    user = _user(app, "admin")
    next_time = (user.totp_last_step + 1) * 30
    code = pyotp.TOTP(secret).at(next_time)
    original = security.time.time
    security.time.time = lambda: next_time + 1
    try:
        ok = browser.post("/login/totp", data={"csrf_token": token, "code": code})
        assert ok.status_code == 302 and browser.get("/").status_code == 200
        replay = app.test_client()
        login(replay, "admin")
        again = replay.post("/login/totp", data={"csrf_token": csrf_token(replay, "/login/totp"), "code": code})
        assert again.status_code == 422  # one code, one sign-in
        api = app.test_client().post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})
        assert api.status_code == 401 and api.get_json()["errors"][0]["code"] == "otp_required"
        later = pyotp.TOTP(secret).at(next_time + 30)
        security.time.time = lambda: next_time + 31
        api = app.test_client().post("/api/v1/auth/token",
                                     json={"username": "admin", "password": DEMO_PASSWORD, "otp": later})
        assert api.status_code == 200
    finally:
        security.time.time = original


@SQLITE
def test_wrong_second_factors_slow_down_that_address(app, client, login_as):
    login_as("ducha")
    _enable_totp(client)
    browser = app.test_client()
    login(browser, "ducha")
    for _ in range(5):
        response = browser.post("/login/totp", data={"csrf_token": csrf_token(browser, "/login/totp"), "code": "999999"})
        assert response.status_code == 422
    slowed = browser.post("/login/totp", data={"csrf_token": csrf_token(browser, "/login/totp"), "code": "999999"})
    assert "登录失败次数过多，请" in slowed.get_data(as_text=True)
    assert "登录失败次数过多，请" in login(app.test_client(), "ducha").get_data(as_text=True)  # same address


# --- API tokens


def test_api_tokens_are_stored_hashed_and_revocable(app, client, login_as):
    from fengqiao.db import db
    from fengqiao.models import ApiToken

    token = api_token(app.test_client(), "shenli")
    second = api_token(app.test_client(), "shenli")
    api = app.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        stored = [row.digest for row in db.scalars(sa.select(ApiToken))]
        assert token not in stored and all(len(d) == 64 for d in stored)
    login_as("admin")
    page = client.get("/admin/users/shenli").get_data(as_text=True)
    assert "API 访问令牌" in page and token not in page
    with app.app_context():
        first_id = min(db.scalars(sa.select(ApiToken.id)))
    revoke = client.post("/admin/users/shenli/security", data={
        "action": "revoke_token", "token": str(first_id), "csrf_token": csrf_token(client, "/admin/users/shenli")})
    assert revoke.status_code == 302
    refused = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.get_json()["errors"][0]["code"] == "invalid_token"
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    bad = client.post("/admin/users/shenli/security", data={
        "action": "drop_tables", "csrf_token": csrf_token(client, "/admin/users/shenli")})
    assert bad.status_code == 400 and "未知的操作" in bad.get_data(as_text=True)


@SQLITE
def test_an_integration_revokes_its_own_token(app, demo):
    token = api_token(app.test_client(), "shenli")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/v1/auth/revoke", headers=headers).status_code == 204
    assert api.get("/api/v1/cases", headers=headers).status_code == 401


@SQLITE
def test_staff_without_users_manage_cannot_revoke(client, login_as):
    login_as("shenli")
    response = client.post("/admin/users/zhangmin/security", data={
        "action": "revoke_all", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403


# --- the secret key


@pytest.mark.parametrize(("key", "message"), [
    ("change-me-to-at-least-32-random-characters-xxxxxxxx", "示例/默认密钥"),  # deploy/fengqiao.env.example
    ("short", "密钥太短"),
    ("ab" * 20, "过于简单"),
])
def test_production_refuses_weak_secret_keys(tmp_path, key, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={"FENGQIAO_SECRET_KEY": key, "FENGQIAO_INSTANCE_PATH": str(tmp_path)})


def test_production_accepts_a_random_key_and_commands_without_sessions_skip_the_check(tmp_path):
    import secrets

    load_settings(environ={"FENGQIAO_SECRET_KEY": secrets.token_urlsafe(48), "FENGQIAO_INSTANCE_PATH": str(tmp_path)})
    load_settings({"require_secret_key": False},
                  environ={"FENGQIAO_SECRET_KEY": "short", "FENGQIAO_INSTANCE_PATH": str(tmp_path)})


def test_the_example_env_file_key_is_refused():
    from pathlib import Path

    example = Path(__file__).parents[2] / "deploy" / "fengqiao.env.example"
    line = next(ln for ln in example.read_text().splitlines() if ln.startswith("FENGQIAO_SECRET_KEY="))
    with pytest.raises(ConfigError):
        load_settings(environ={"FENGQIAO_SECRET_KEY": line.split("=", 1)[1]})
