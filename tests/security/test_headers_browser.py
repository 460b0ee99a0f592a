"""In a real browser the CSP blocks nothing the pages need: no violation is reported on the
pages that run the most script (form filling, the designer, the queue, a case, the TOTP QR)."""

from __future__ import annotations

import pytest

from fengqiao.testing.plugin import browser_login, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_no_csp_violation_on_script_heavy_pages(page, live_server, client, demo):
    number = submit_form(client, "livelihood-request", {
        "request_type": "complaint", "summary": "路灯不亮", "content": "三天了。",
        "caller_name": "陈德福", "caller_mobile": "13800138000"}, org="339901001001")["case_number"]
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/forms/livelihood-request")
    browser_login(page, live_server, "admin")
    for path in ("/queues", f"/cases/{number}", "/admin/forms/new", "/account/totp", "/board"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    qr = page.goto(f"{live_server}/account/totp")
    assert qr.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.locator("img[alt='两步验证二维码']").evaluate("img => img.naturalWidth") > 0
    assert violations == []
