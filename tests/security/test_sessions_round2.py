"""Security round 2, sessions and sign-in: logout ends the session on the server, sessions
have an absolute lifetime, a password change ends API tokens too, unknown and existing
usernames get the same answers, guessing slows one account from one address instead of
locking the account, successful sign-ins are not rate-limited, and every 429 says when."""

from __future__ import annotations

import re
import time

import pytest

from fengqiao.config import ConfigError, load_settings
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.testing.plugin import api_token, csrf_token, login

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NEW_PASSWORD = "Qiaodong#Lamp47"
COOKIE = "fengqiao_session"
WRONG = "Wrong-password-1"


def _copy_cookie(source, target) -> None:
    cookie = source.get_cookie(COOKIE)
    assert cookie is not None
    target.set_cookie(COOKIE, cookie.value)


def _token(client, username: str, password: str = DEMO_PASSWORD, address: str = "192.0.2.10"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


# --- the session on the server


def test_a_cookie_copied_before_logout_no_longer_works(app, client, login_as):
    login_as("shenli")
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert thief.get("/api/v1/cases").status_code == 200
    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logout.status_code == 302
    page = thief.get("/queues")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    api = thief.get("/api/v1/cases")
    assert api.status_code == 401 and api.get_json()["errors"][0]["code"] in ("unauthorized", "session_expired")


@SQLITE
def test_logout_ends_only_that_session(app, client, login_as):
    login_as("shenli")
    laptop = app.test_client()
    assert login(laptop, "shenli").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert laptop.get("/").status_code == 200


@SQLITE
@pytest.mark.parametrize("app_config", [{"session_max_hours": 1}])
def test_a_busy_session_still_ends_after_the_absolute_lifetime(app, client, login_as, monkeypatch):
    """Used every 25 minutes (never idle), the session still ends an hour after sign-in."""
    login_as("shenli")
    start = time.time()
    for minutes in (25, 50):
        monkeypatch.setattr(time, "time", lambda m=minutes: start + m * 60)
        assert client.get("/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: start + 75 * 60)
    expired = client.get("/queues")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    assert "登录已超过 1 小时" in client.get(expired.headers["Location"]).get_data(as_text=True)
    assert client.get("/queues").status_code == 302
    assert login(client, "shenli").status_code == 302  # signing in again starts a new lifetime
    assert client.get("/").status_code == 200


@SQLITE
@pytest.mark.parametrize("app_config", [{"session_max_hours": 1, "session_idle_minutes": 120}])
def test_the_absolute_lifetime_answers_the_api_in_json(app, client, login_as, monkeypatch):
    login_as("shenli")
    assert client.get("/api/v1/cases").status_code == 200
    later = time.time() + 61 * 60  # not idle (120 minutes allowed), but past the lifetime
    monkeypatch.setattr(time, "time", lambda: later)
    expired = client.get("/api/v1/cases")
    assert expired.status_code == 401 and expired.get_json()["errors"][0]["code"] == "session_expired"


def test_session_max_hours_setting():
    assert load_settings(environ={"FENGQIAO_MODE": "testing"}).session_max_hours == 12
    assert load_settings(environ={"FENGQIAO_MODE": "testing",
                                  "FENGQIAO_SESSION_MAX_HOURS": "8"}).session_max_hours == 8
    for bad in ("0", "abc", "1000"):
        with pytest.raises(ConfigError, match="FENGQIAO_SESSION_MAX_HOURS"):
            load_settings(environ={"FENGQIAO_MODE": "testing", "FENGQIAO_SESSION_MAX_HOURS": bad})


@SQLITE
def test_a_password_change_revokes_the_users_api_tokens(app, client, login_as):
    token = api_token(app.test_client(), "shenli")
    other = api_token(app.test_client(), "zhangmin")
    integration = app.test_client()
    assert integration.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    login_as("shenli")
    changed = client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": DEMO_PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert changed.status_code == 302
    refused = integration.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.get_json()["errors"][0]["code"] == "invalid_token"
    assert integration.get("/api/v1/cases", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert client.get("/").status_code == 200  # the browser that changed it stays signed in


# --- sign-in: no enumeration, no lockout of the account, slow-down per account and address


@SQLITE
def test_unknown_and_existing_usernames_get_the_same_answers(app, demo):
    client = app.test_client()
    answers = {}
    for username, address in (("shenli", "192.0.2.21"), ("nobody-here", "192.0.2.22")):
        answers[username] = [(r.status_code, r.get_json()) for r in
                             (_token(client, username, WRONG, address) for _ in range(7))]
    assert answers["shenli"] == answers["nobody-here"]
    assert answers["shenli"][0][1]["errors"][0]["message"] == "用户名或密码错误"
    throttled = answers["shenli"][-1]
    assert throttled[0] == 401 and throttled[1]["errors"][0]["code"] == "throttled"
    assert re.search(r"请 \d+ 分钟后再试", throttled[1]["errors"][0]["message"])
    assert "锁定" not in throttled[1]["errors"][0]["message"]


@SQLITE
def test_guessing_from_one_address_does_not_lock_the_account_elsewhere(app, demo):
    client = app.test_client()
    for _ in range(8):
        assert _token(client, "shenli", WRONG, "203.0.113.66").status_code == 401
    slowed = _token(client, "shenli", DEMO_PASSWORD, "203.0.113.66")  # even the right password waits
    assert slowed.status_code == 401 and slowed.get_json()["errors"][0]["code"] == "throttled"
    assert _token(client, "shenli", DEMO_PASSWORD, "198.51.100.8").status_code == 200  # the owner elsewhere
    assert _token(client, "zhangmin", DEMO_PASSWORD, "203.0.113.66").status_code == 200  # another account
    page_client = app.test_client()
    assert login(page_client, "shenli").status_code == 302  # the browser (127.0.0.1) is not affected


@SQLITE
def test_the_login_page_gives_the_same_slow_down_message(app, demo):
    pages = {}
    for username, address in (("liuyang", "192.0.2.31"), ("ghost-user", "192.0.2.32")):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = address
        for _ in range(5):
            assert login(browser, username, WRONG).status_code == 422
        pages[username] = login(browser, username, WRONG).get_data(as_text=True)
    for page in pages.values():
        assert re.search(r"登录失败次数过多，请 \d+ 分钟后再试", page) and "账户已锁定" not in page


@SQLITE
@pytest.mark.parametrize("app_config", [{"rate_limits": {"login": "3/minute;5/hour"}}])
def test_successful_sign_ins_do_not_count_against_the_address(app, demo):
    """A township office behind one address signs in all day long."""
    office = app.test_client()
    for username in ("shenli", "zhangmin", "ducha", "lingdao", "admin", "shenli", "zhangmin"):
        assert _token(office, username, DEMO_PASSWORD, "192.0.2.50").status_code == 200, username
    for username in ("shenli", "zhangmin", "lingdao", "ducha"):
        assert login(app.test_client(), username).status_code == 302


@SQLITE
@pytest.mark.parametrize("app_config", [{"rate_limits": {"login": "2/minute", "track": "2/minute"}}])
def test_every_429_says_when_to_try_again(app, demo):
    client = app.test_client()
    for _ in range(2):
        assert _token(client, f"user{_}", WRONG, "192.0.2.77").status_code == 401
    limited = _token(client, "shenli", DEMO_PASSWORD, "192.0.2.77")
    assert limited.status_code == 429
    [err] = limited.get_json()["errors"]
    assert err["code"] == "rate_limited" and re.search(r"请 \d+ (秒|分钟)后再试", err["message"])
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    for _ in range(2):
        client.get("/api/v1/track/X-1?code=abc")
    tracked = client.get("/api/v1/track/X-1?code=abc")
    assert tracked.status_code == 429 and re.search(r"请 \d+ (秒|分钟)后再试", tracked.get_json()["errors"][0]["message"])
    assert "Retry-After" in tracked.headers
    page = client.get("/track?number=X-1&code=abc")
    assert page.status_code == 429 and re.search(r"请 \d+ (秒|分钟)后再试", page.get_data(as_text=True))


@SQLITE
def test_wrong_second_factors_slow_down_without_locking_the_account(app, client, login_as):
    import pyotp

    login_as("ducha")
    page = client.get("/account/totp").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    done = client.post("/account/totp", data={"csrf_token": csrf_token(client, "/account/totp"),
                                              "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    browser = app.test_client()
    assert login(browser, "ducha").status_code == 302
    for _ in range(5):
        wrong = browser.post("/login/totp", data={"csrf_token": csrf_token(browser, "/login/totp"), "code": "999999"})
        assert wrong.status_code == 422
    slowed = browser.post("/login/totp", data={"csrf_token": csrf_token(browser, "/login/totp"), "code": "999999"})
    text = slowed.get_data(as_text=True)
    assert re.search(r"登录失败次数过多，请 \d+ 分钟后再试", text) and "账户已锁定" not in text
    elsewhere = app.test_client()
    step_one = elsewhere.post("/login", data={"username": "ducha", "password": DEMO_PASSWORD,
                                              "csrf_token": csrf_token(elsewhere, "/login")},
                              environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert step_one.status_code == 302 and step_one.headers["Location"].endswith("/login/totp")
