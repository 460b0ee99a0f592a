"""The county supervisor opens 统计分析 in real Chromium: KPI tiles, SVG charts, the unit
table, an overdue case that links to its page, and a switch of period."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fengqiao.db import db, utcnow
from fengqiao.models import Case
from fengqiao.testing.plugin import browser_login, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

INCIDENT = {"summary": "湖滨路路灯不亮", "category": "市容环境", "description": "路灯连续三晚不亮。",
            "location": {"address": "湖滨路 18 号"}}


def test_supervisor_reads_the_dashboard(app, client, bearer, live_server, page, screenshot_dir):
    worker = bearer("zhangmin")
    late = submit_form(client, "grid-incident", INCIDENT, headers=worker)["case_number"]
    submit_form(client, "grid-incident", {**INCIDENT, "summary": "窨井盖破损", "category": "安全隐患"}, headers=worker)
    with app.app_context():  # one case is past its deadline, so the overdue list has a row
        db.execute(sa.update(Case).where(Case.number == late).values(deadline=utcnow() - timedelta(minutes=5)))
        db.commit()

    browser_login(page, live_server, "ducha")
    page.get_by_role("link", name="统计分析").click()
    page.wait_for_url(f"{live_server}/metrics")
    expect(page.get_by_role("heading", name="统计分析")).to_be_visible()

    tiles = page.locator("section.kpis")
    for label in ["受理量", "办结量", "办结率", "按期办结率", "响应率", "满意率", "平均办理时长", "当前超期"]:
        expect(tiles.get_by_text(label, exact=True), label).to_be_visible()
    expect(page.locator('[data-kpi="received"] b')).to_have_text("2")
    expect(page.locator('[data-kpi="overdue"] b')).to_have_text("1")

    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    expect(charts.first).to_be_visible()
    assert charts.first.get_attribute("role") == "img"
    assert "每日受理与办结" in charts.first.locator("title").first.text_content()
    assert charts.first.locator("rect").count() > 30  # a bar per series and day, and the legend
    expect(page.get_by_role("cell", name="澄湖街道")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "metrics-desktop.png"), full_page=True)

    page.get_by_label("统计期间").select_option(label="上月")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "上月" in page.locator("main").inner_text()
    expect(page.locator('[data-kpi="received"] b')).to_have_text("0")

    page.get_by_role("link", name=late).click()
    page.wait_for_url(f"{live_server}/cases/{late}")
    expect(page.get_by_text("湖滨路路灯不亮").first).to_be_visible()


def test_supervisor_downloads_the_overdue_ledger(app, client, bearer, live_server, page, screenshot_dir):
    late = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    with app.app_context():  # its first clock (due_at, what the ledger counts) ran out an hour ago
        past = utcnow() - timedelta(hours=1)
        db.execute(sa.update(Case).where(Case.number == late).values(deadline=past, due_at=past))
        db.commit()
    browser_login(page, live_server, "ducha")
    page.goto(f"{live_server}/metrics")
    page.locator("#main").get_by_role("link", name="导出台账").click()
    page.wait_for_url(re.compile(r".*/metrics/ledgers.*"))
    page.get_by_label("超期台账").check()
    page.get_by_role("button", name="生成台账").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    expect(page.get_by_text("已完成")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "ledger-job-desktop.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载")).click()
    assert download.value.suggested_filename.startswith("超期台账-全部可见单位-")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["编号", "类型", "标题"] and "首次办结时间" in header
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [row[0] for row in rows] == [late]
    assert rows[0][header.index("超期自然日")] == 1  # still open, an hour past its first clock


def test_the_dashboard_fits_a_phone(demo, live_server, phone_page, screenshot_dir):
    page = phone_page
    browser_login(page, live_server, "lingdao")  # 县领导（只读）
    page.goto(f"{live_server}/metrics?preset=this_year")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "metrics-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the dashboard must not scroll sideways on a phone"
