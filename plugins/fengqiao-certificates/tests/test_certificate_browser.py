"""The acceptance path in real Chromium: a resident on a phone asks for a certificate on the
must-not-issue list and reads the referral on /track; asks for one on the may-issue list,
the community approves it, the resident downloads the PDF and its QR code verifies."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from certificates_testkit import decode_qr
from fengqiao.sdk.testing import browser_login
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.plugins("certificates"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]



def _person(browser, base, username=None, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    page = browser.new_context(locale="zh-CN", viewport=size, accept_downloads=True).new_page()
    if username:
        browser_login(page, base, username)
    return page


def _ask(page, base, certificate: str) -> tuple[str, str]:
    page.goto(f"{base}/p/certificates/?org=339901001001")
    page.get_by_role("link", name="申请开具证明").click()
    page.wait_for_url("**/forms/certificate-request?org=339901001001")
    page.get_by_label("申请开具的证明").fill(certificate)
    page.get_by_label("用途").fill("子女入学")
    page.get_by_label("申请人姓名").fill("王小明")
    page.get_by_label("身份证号").fill("33990119900101123X")
    page.get_by_label("手机").fill("13800138000")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{base}/forms/certificate-request/done**")
    return page.locator(".case-number").inner_text(), page.locator(".tracking-code").inner_text()


def _track(page, base, number: str, code: str) -> None:
    page.goto(f"{base}/track")
    page.get_by_label("事项编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()


@pytest.mark.slow
def test_refusal_with_referral_then_issue_download_and_verify(demo_lists, live_server, _chromium, screenshot_dir):
    base = live_server
    resident = _person(_chromium, base, phone=True)
    resident.goto(f"{base}/p/certificates/?org=339901001001")
    expect(resident.get_by_role("img", name="本页二维码")).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "certificates-posting-phone.png"), full_page=True)
    number, code = _ask(resident, base, "亲属关系证明")
    _track(resident, base, number, code)
    expect(resident.get_by_text("不予出具").first).to_be_visible()
    expect(resident.get_by_text("公证机构", exact=False).first).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "certificates-refused-phone.png"), full_page=True)

    number, code = _ask(resident, base, "实际居住证明")
    staff = _person(_chromium, base, "shenli")
    staff.goto(f"{base}/cases/{number}")
    staff.get_by_role("button", name="审核通过，出具证明", exact=True).click()
    staff.wait_for_url(f"{base}/cases/{number}")
    expect(staff.get_by_text("已办理，当前状态")).to_be_visible()
    staff.goto(f"{base}/p/certificates/admin/339901001001")
    staff.screenshot(path=str(screenshot_dir / "certificates-admin-list.png"), full_page=True)

    resident.goto(f"{base}/p/certificates/download")
    resident.get_by_label("事项编号").fill(number)
    resident.get_by_label("查询码").fill(code)
    with resident.expect_download() as download:
        resident.get_by_role("button", name="下载证明").click()
    pdf = open(download.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF") and b"/FontFile" in pdf
    url = decode_qr(pdf)
    assert urlparse(url).netloc == urlparse(base).netloc
    resident.goto(url)
    expect(resident.get_by_text("有效证明")).to_be_visible()
    expect(resident.get_by_text("王**")).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "certificates-verified-phone.png"), full_page=True)
