"""An admin designs a form in the field editor and publishes it; a resident fills it in,
in real Chromium. Also: touching the editor never rewrites what it did not change."""

from __future__ import annotations

import json
import re

import pytest
from designer_steps import add_field
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

KEY = "neighbour-help"


def _definition(page) -> dict:
    return json.loads(page.locator("textarea[name=definition]").input_value())


@pytest.mark.slow
def test_admin_designs_and_publishes_a_form_a_resident_fills_it_in(
    demo, live_server, page, phone_page, screenshot_dir
):
    browser_login(page, live_server, "admin")
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_text("系统管理", exact=True).click()  # the admin pages' group starts folded away
    nav.get_by_role("link", name="表单设计").click()
    page.wait_for_url(f"{live_server}/admin/forms")
    page.get_by_role("link", name="新建表单").click()
    page.wait_for_url(f"{live_server}/admin/forms/new")

    page.get_by_label("表单名称", exact=True).fill("邻里求助登记")
    page.get_by_label("表单标识", exact=True).fill(KEY)
    page.get_by_label("谁可以填写").select_option("public")
    add_field(page, "姓名", "name", "单行文本", required=True)
    card = add_field(page, "联系电话", "name", "手机号", required=True)
    expect(card.get_by_role("alert")).to_have_text("与「姓名」的标识重复")
    assert list(_definition(page)["schema"]["properties"]) == ["name", "field2"]  # not clobbered
    card.get_by_label("字段标识").fill("mobile")
    expect(card.get_by_role("alert")).not_to_be_visible()
    card = add_field(page, "诉求", "content", "多行文本")
    card.get_by_label("帮助文字").fill("请写明时间、地点和需要的帮助")

    definition = _definition(page)
    assert definition["key"] == KEY and definition["access"] == "public"
    assert definition["schema"]["required"] == ["name", "mobile"]
    assert definition["schema"]["properties"]["mobile"] == {
        "type": "string", "title": "联系电话", "format": "cn-mobile"}
    assert definition["ui"]["order"] == ["name", "mobile", "content"]
    assert definition["ui"]["widgets"] == {"content": "textarea"}
    assert definition["ui"]["help"] == {"content": "请写明时间、地点和需要的帮助"}

    preview = page.locator("[data-designer-preview]")
    preview.get_by_text("请写明时间、地点和需要的帮助").wait_for()
    expect(preview.locator("textarea")).to_have_count(1)
    expect(preview.get_by_role("heading", name="邻里求助登记")).to_be_visible()
    expect(page.locator("[data-designer-dirty]")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the JSON and preview columns follow the scroll
    page.screenshot(path=str(screenshot_dir / "designer-desktop.png"), full_page=True)

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(f"{live_server}/admin/forms/{KEY}/edit")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    expect(page.get_by_text("这是第一次发布")).to_be_visible()
    page.get_by_role("button", name="发布第 1 版").click()
    page.wait_for_url(f"{live_server}/admin/forms/{KEY}")
    expect(page.get_by_text("已发布第 1 版")).to_be_visible()

    # The same designer on a phone: one column, nothing wider than the screen.
    browser_login(phone_page, live_server, "admin")
    phone_page.goto(f"{live_server}/admin/forms/{KEY}/edit")
    phone_page.locator("details.designer-field").first.locator("summary").click()
    phone_page.screenshot(path=str(screenshot_dir / "designer-phone.png"), full_page=True)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390

    # A resident, not signed in, in a fresh browser.
    resident_context = page.context.browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        resident = resident_context.new_page()
        resident.goto(f"{live_server}/forms/{KEY}")
        expect(resident.get_by_role("heading", name="邻里求助登记")).to_be_visible()
        expect(resident.get_by_role("heading", name="请选择您所在的社区（村）")).to_be_visible()
        resident.get_by_label("姓名").fill("李大爷")
        resident.get_by_label("联系电话").fill("1381234567")
        resident.get_by_label("诉求").fill("楼下路灯坏了，晚上看不清台阶")
        resident.get_by_role("button", name="提交").click()
        phone_field = resident.locator('.field[data-pointer="/mobile"]')
        expect(phone_field.locator(".error")).to_have_text("请输入 11 位手机号码")
        assert resident.get_by_label("姓名").input_value() == "李大爷"
        assert resident.get_by_label("诉求").input_value() == "楼下路灯坏了，晚上看不清台阶"
        resident.screenshot(path=str(screenshot_dir / "designed-form-error-phone.png"), full_page=True)

        resident.get_by_label("联系电话").fill("13812345678")
        resident.get_by_role("button", name="提交").click()
        # no ?org= and no accepting unit: nothing lands silently at the county, the resident picks
        org_field = resident.locator('.field:has(#f-org)')
        expect(org_field.locator(".error")).to_have_text("请选择您所在的社区（村），以便由属地受理")
        assert resident.get_by_label("诉求").input_value() == "楼下路灯坏了，晚上看不清台阶"
        resident.get_by_label("所在社区（村）").select_option(label="揽月社区")
        resident.get_by_role("button", name="提交").click()
        resident.wait_for_url(f"{live_server}/forms/{KEY}/done")
        expect(resident.get_by_role("heading", name="提交成功")).to_be_visible()
        assert re.fullmatch(r"\S{6,}", resident.locator(".case-number").inner_text())
    finally:
        resident_context.close()


@pytest.mark.parametrize("key", ["dispute-registration", "grid-incident", "livelihood-request",
                                 "proxy-service"])
def test_editing_in_the_field_editor_changes_only_what_was_edited(demo, live_server, page, key):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/forms/{key}/edit")
    original = _definition(page)
    first = page.locator("details.designer-field").first
    first.locator("summary").click()
    title = first.get_by_label("字段名称")
    label = title.input_value()
    title.fill(label + "（改）")
    assert _definition(page)["schema"]["properties"][original["ui"]["order"][0]]["title"] == label + "（改）"
    title.fill(label)
    required = first.get_by_label("必填")
    required.click()
    required.click()
    cards = page.locator(".designer-field-card")  # a field's <details> and its move/remove buttons
    cards.first.get_by_role("button", name=re.compile("下移")).click()
    cards.nth(1).get_by_role("button", name=re.compile("上移")).click()
    assert _definition(page) == original


def test_conditions_in_the_editor_become_if_then_blocks(demo, live_server, page):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/forms/proxy-service/edit")
    note = page.locator("details.designer-field", has_text="备注")
    note.locator("summary").click()
    note.get_by_label("仅当").select_option(label="结果领取方式 · delivery")
    note.get_by_label("为", exact=True).select_option(label="邮寄")
    schema = _definition(page)["schema"]
    assert "if" not in schema and "then" not in schema  # two conditions: allOf
    assert schema["allOf"] == [
        {"if": {"properties": {"is_proxy": {"const": True}}, "required": ["is_proxy"]},
         "then": {"required": ["proxy_name", "proxy_mobile", "authorization"],
                  "properties": {"proxy_name": {"minLength": 1}}}},
        {"if": {"properties": {"delivery": {"const": "post"}}, "required": ["delivery"]},
         "then": {"required": ["note"]}},
    ]
    # The server reads it back the same way: the preview shows 备注 as conditional.
    page.locator('.designer-preview [data-pointer="/note"][data-show-if]').wait_for()
    note.get_by_label("仅当").select_option(label="（总是显示）")
    schema = _definition(page)["schema"]
    assert "allOf" not in schema and schema["then"]["required"] == ["proxy_name", "proxy_mobile", "authorization"]


def test_the_field_editor_marks_personal_fields(demo, live_server, page, screenshot_dir):
    """个人信息 in a field card writes ``ui.personal``; mobile and ID-card fields say they
    are always personal; the marks already in the form show as chosen."""
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/forms/livelihood-request/edit")
    original = _definition(page)
    assert original["ui"]["personal"] == {"caller_name": "name"}

    def card(title):
        return page.locator("details.designer-field").filter(
            has=page.locator(".designer-field-title", has_text=re.compile(f"^{title}$")))

    name_card = card("姓名")
    name_card.locator("summary").click()
    expect(name_card.get_by_label("个人信息")).to_have_value("name")
    expect(name_card.locator(".designer-field-meta")).to_contain_text("个人信息")

    mobile_card = card("联系电话")
    mobile_card.locator("summary").click()
    expect(mobile_card.get_by_text("手机号和身份证号始终作为个人信息打码显示。")).to_be_visible()
    expect(mobile_card.get_by_label("个人信息")).to_have_count(0)

    address = card("事发地址")
    address.locator("summary").click()
    address.get_by_label("个人信息").select_option(label="是：住址（只显示到楼栋）")
    expect(address.locator(".designer-field-meta")).to_contain_text("个人信息")
    assert _definition(page)["ui"]["personal"] == {"caller_name": "name", "address": "address"}
    address.screenshot(path=str(screenshot_dir / "designer-personal-field.png"))
    address.get_by_label("个人信息").select_option(label="否")
    assert _definition(page) == original  # back to where it was, nothing else touched

    address.get_by_label("个人信息").select_option(label="是：住址（只显示到楼栋）")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(f"{live_server}/admin/forms/livelihood-request/edit")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    assert _definition(page)["ui"]["personal"] == {"caller_name": "name", "address": "address"}
