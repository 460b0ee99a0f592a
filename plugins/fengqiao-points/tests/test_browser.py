"""In real Chromium: a resident signs in on a phone with the card's 账户号 + 查询码, sees the
balance and reserves a product; staff confirm the collection at the counter."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import browser_login
from playwright.sync_api import expect

from fengqiao_points.models import PointsRedemption

pytestmark = [pytest.mark.browser, pytest.mark.plugins("points"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_resident_reserves_on_a_phone_and_staff_confirm_at_the_counter(
        app, bearer, make_account, make_product, live_server, phone_page, page, screenshot_dir):
    account = make_account(name="王秀英", balance=50, admin=bearer("admin"))
    make_product(name="洗衣液 2kg", points=30, stock=5)
    make_product(name="大米 5kg", points=80, stock=5)

    resident = phone_page
    resident.goto(f"{live_server}/p/points/shelf")
    resident.get_by_label("账户号").fill(account["number"])
    resident.get_by_label("查询码").fill(account["pin"])
    resident.get_by_role("button", name="进入").click()
    expect(resident.locator("[data-balance]")).to_have_text("50")
    expect(resident.get_by_text("王**")).to_be_visible()
    rice = resident.locator("[data-product='大米 5kg']")
    assert rice.get_by_role("button", name="预约兑换").is_disabled()  # 80 > 50
    resident.locator("[data-product='洗衣液 2kg']").get_by_role("button", name="预约兑换").click()
    expect(resident.get_by_text("预约成功")).to_be_visible()
    expect(resident.locator("[data-balance]")).to_have_text("20")
    expect(resident.locator("[data-reserved]")).to_have_count(1)
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    resident.screenshot(path=str(screenshot_dir / "points-shelf-phone.png"), full_page=True)

    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/p/points/counter")
    page.get_by_label("账户号").fill(account["number"])
    page.get_by_role("button", name="查找").click()
    row = page.locator("[data-redemption]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("洗衣液 2kg")
    page.screenshot(path=str(screenshot_dir / "points-counter.png"), full_page=True)
    row.get_by_role("button", name="确认领取").click()
    expect(page.get_by_text("已确认领取")).to_be_visible()
    expect(page.locator("[data-redemption]")).to_have_count(0)
    with app.app_context():
        assert db.scalar(sa.select(PointsRedemption.status)) == "collected"

    resident.reload()
    expect(resident.locator("[data-reserved]")).to_have_count(0)
    expect(resident.locator("[data-balance]")).to_have_text("20")
