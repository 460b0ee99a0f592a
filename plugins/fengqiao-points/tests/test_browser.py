"""In real Chromium: a resident signs in on a phone with the card's 账户号 + 查询码, sees the
balance and reserves a product; staff confirm the collection at the counter."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk import db

from fengqiao_points.models import PointsRedemption

pytestmark = [pytest.mark.browser, pytest.mark.plugins("points"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PASSWORD = "Fengqiao2026"  # the demo accounts' password


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
    assert resident.locator("[data-balance]").inner_text() == "50"
    assert resident.get_by_text("王**").is_visible()
    rice = resident.locator("[data-product='大米 5kg']")
    assert rice.get_by_role("button", name="预约兑换").is_disabled()  # 80 > 50
    resident.locator("[data-product='洗衣液 2kg']").get_by_role("button", name="预约兑换").click()
    assert resident.get_by_text("预约成功").is_visible()
    assert resident.locator("[data-balance]").inner_text() == "20"
    assert resident.locator("[data-reserved]").count() == 1
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    resident.screenshot(path=str(screenshot_dir / "points-shelf-phone.png"), full_page=True)

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("shenli")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/p/points/counter")
    page.get_by_label("账户号").fill(account["number"])
    page.get_by_role("button", name="查找").click()
    row = page.locator("[data-redemption]")
    assert row.count() == 1 and "洗衣液 2kg" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "points-counter.png"), full_page=True)
    row.get_by_role("button", name="确认领取").click()
    assert page.get_by_text("已确认领取").is_visible()
    assert page.locator("[data-redemption]").count() == 0
    with app.app_context():
        assert db.scalar(sa.select(PointsRedemption.status)) == "collected"

    resident.reload()
    assert resident.locator("[data-reserved]").count() == 0
    assert resident.locator("[data-balance]").inner_text() == "20"
