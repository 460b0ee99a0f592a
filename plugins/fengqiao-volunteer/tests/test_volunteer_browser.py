"""Acceptance in a browser: a volunteer signs up on a phone, the organiser confirms the hours
on the roster, the volunteer downloads the certificate, and its QR code (decoded from the
PDF) opens the verification page that says it is valid."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from fengqiao.sdk.testing import browser_login
from fengqiao.sdk.workdays import LOCAL_TZ
from playwright.sync_api import expect
from volunteer_helpers import COMMUNITY, adult_id

pytestmark = [pytest.mark.browser, pytest.mark.plugins("volunteer"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _qr_text(pdf: bytes) -> str:
    """The text of the QR code embedded in the certificate PDF."""
    extra = "pip install -e 'plugins/fengqiao-volunteer[test]'"
    zxingcpp = pytest.importorskip("zxingcpp", reason=extra)
    PdfReader = pytest.importorskip("pypdf", reason=extra).PdfReader
    from PIL import Image

    for image in PdfReader(io.BytesIO(pdf)).pages[0].images:
        picture = Image.open(io.BytesIO(image.data)).convert("L")
        picture = picture.resize((picture.width * 4, picture.height * 4), Image.NEAREST)
        border = Image.new("L", (picture.width + 80, picture.height + 80), 255)
        border.paste(picture, (40, 40))
        for found in zxingcpp.read_barcodes(border):
            return found.text
    raise AssertionError("no QR code found in the certificate")


@pytest.mark.slow
def test_signup_on_a_phone_confirm_hours_download_and_verify(demo, client, staff, live_server, page, phone_page,
                                                             screenshot_dir):
    now = datetime.now(LOCAL_TZ).replace(second=0, microsecond=0)
    body = {"title": "揽月花园环境清洁日", "org": COMMUNITY, "place": "中心广场", "quota": 5,
            "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()}
    activity = client.post("/api/v1/p/volunteer/activities", json=body, headers=staff).get_json()["id"]

    # The volunteer signs up on a phone (from the QR poster's link).
    phone = phone_page
    phone.goto(f"{live_server}/p/volunteer/a/{activity}")
    phone.locator("#f-name").fill("陈晓燕")
    phone.get_by_label("身份证号").fill(adult_id(7))
    phone.get_by_label("手机号（首次报名填写）").fill("13805710001")
    phone.screenshot(path=str(screenshot_dir / "volunteer-signup-phone.png"), full_page=True)
    phone.get_by_role("button", name="提交报名").click()
    phone.wait_for_url("**/p/volunteer/me/**")
    expect(phone.get_by_text("报名成功：揽月花园环境清洁日")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    record_url = phone.url

    # The organiser confirms two hours on the roster.
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/p/volunteer/activities/{activity}")
    row = page.locator("tr[data-volunteer]")
    expect(row.locator("td").nth(1)).to_have_text("陈**")
    row.get_by_label("工时").fill("2")
    row.get_by_role("button", name="确认工时").click()
    page.wait_for_load_state()
    expect(page.get_by_text("已确认 2 小时")).to_be_visible()
    expect(row.locator("[data-confirmed]")).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "volunteer-roster.png"), full_page=True)

    # The volunteer sees the hours and downloads the certificate.
    phone.goto(record_url)
    expect(phone.locator("[data-total]")).to_have_text("2 小时")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "volunteer-record-phone.png"), full_page=True)
    with phone.expect_download() as download:
        phone.get_by_role("button", name="下载志愿服务记录证明").click()
    pdf = open(download.value.path(), "rb").read()  # noqa: SIM115
    assert pdf.startswith(b"%PDF")

    verify_url = _qr_text(pdf)
    assert verify_url.startswith(f"{live_server}/p/volunteer/verify/ZY")
    phone.goto(verify_url)
    expect(phone.locator("[data-valid]")).to_have_text("✓ 证明有效")
    expect(phone.locator("[data-name]")).to_have_text("陈**")
    phone.screenshot(path=str(screenshot_dir / "volunteer-verify-phone.png"), full_page=True)
