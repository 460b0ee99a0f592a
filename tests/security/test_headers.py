"""Security headers on every kind of response, cookie flags, HSTS only over HTTPS, and no
inline script anywhere in the core's templates (the CSP forbids it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from fengqiao.testing.plugin import login

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database in play

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _assert_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.path, name)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" or "sandbox" in csp
    if "script-src" in directives:
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in csp
    assert directives.get("frame-ancestors", "'none'") == "'none'"


@SQLITE
def test_every_kind_of_response_carries_the_headers(client, demo):
    responses = [
        client.get("/login"),  # HTML page
        client.get("/api/v1/forms"),  # JSON
        client.get("/api/v1/cases"),  # JSON error (401)
        client.get("/no-such-page"),  # HTML error (404)
        client.get("/static/forms.js"),  # static file
        client.get("/theme/fengqiao.css"),
        client.post("/api/v1/auth/token", data="{", content_type="application/json"),  # 400
        client.get("/healthz"),
    ]
    for response in responses:
        _assert_headers(response)
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in csp and "style-src 'self' 'unsafe-inline'" in csp
    assert "Strict-Transport-Security" not in client.get("/login").headers  # plain HTTP


@SQLITE
def test_signed_in_pages_are_not_cached(client, login_as):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as("shenli")
    assert client.get("/").headers["Cache-Control"] == "no-store"


@SQLITE
def test_cookie_flags_over_http(client, demo):
    response = login(client, "shenli")
    cookie = response.headers["Set-Cookie"]
    assert "fengqiao_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # a plain-HTTP demo must still be able to sign in


@SQLITE
def test_https_gets_secure_cookies_and_hsts(app, demo):
    client = app.test_client()
    token_page = client.get("/login", base_url="https://fengqiao.example")
    assert token_page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    response = login_via(client, "https://fengqiao.example")
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@SQLITE
def test_behind_the_proxy_the_forwarded_scheme_counts(app, demo):
    """``wsgi_proxied`` (ProxyFix): TLS ends at nginx, X-Forwarded-Proto says https."""
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = client.get("/login", headers=forwarded)
    assert "Strict-Transport-Security" in page.headers
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers


def login_via(client, base_url: str):
    from fengqiao.demo_data import DEMO_PASSWORD
    from fengqiao.testing.plugin import _CSRF

    html = client.get("/login", base_url=base_url).get_data(as_text=True)
    match = _CSRF.search(html)
    token = match.group(1) or match.group(2)
    return client.post("/login", base_url=base_url, headers={"Referer": f"{base_url}/login"},
                       data={"username": "shenli", "password": DEMO_PASSWORD, "csrf_token": token})


@SQLITE
def test_oversized_bodies_are_413_in_both_shapes(client, demo):
    big = "x" * (3 * 1024 * 1024)
    api = client.post("/api/v1/forms/livelihood-request/submissions", data=big, content_type="application/json")
    assert api.status_code == 413
    assert api.get_json()["errors"][0] == {"pointer": "", "message": "提交内容过大", "code": "too_large"}
    page = client.post("/forms/livelihood-request", data={"summary": big})
    assert page.status_code == 413 and "提交内容过大" in page.get_data(as_text=True)


TEMPLATE_ROOTS = [Path(__file__).parents[2] / "platform" / "fengqiao" / "templates",
                  Path(__file__).parents[2] / "themes"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.IGNORECASE)


def test_core_templates_have_no_inline_script():
    """The CSP would block it anyway; this keeps the templates honest (a blocked script is a
    broken page)."""
    offenders = []
    for root in TEMPLATE_ROOTS:
        for path in root.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL):
                for match in pattern.finditer(text):
                    offenders.append(f"{path.relative_to(root.parent)}: {match.group(0)[:60]}")
    assert not offenders, "\n".join(offenders)
