"""Issue 20's acceptance, in real Chromium: the county admin builds the matter 「电动车违规充电隐患」
entirely in the UI (新建事项类型 → the designer's tables → 发布, then the reporting form in the
form designer), a grid worker reports it from a phone with a photo, the community verifies it
and sends it to the property company 揽月花园物业服务中心 for 整改 (a step with its own deadline),
the company's liaison must attach a photo, the grid worker rechecks with photos (once refused, once passed), and an overdue case
climbs to the street. No JSON is typed anywhere; each step is photographed (ebike-NN-*.png)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from designer_steps import add_field
from playwright.sync_api import expect

from fengqiao.testing.plugin import act_on_case, browser_login, case_action_form, person_page

# 揽月花园物业服务中心: a department inside 揽月社区's subtree (demo_data.py), so the community may
# send it work without any routable_departments setting (cases/routing.py) — the issue's
# "assigned to the property company".
PROPERTY = "339901001001901"
FORM = "ebike-charging"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def photo(tmp_path):
    """A small real JPEG, as a phone camera would send."""
    from PIL import Image, ImageDraw

    path = tmp_path / "charging.jpg"
    image = Image.new("RGB", (320, 240), (40, 90, 160))
    ImageDraw.Draw(image).rectangle((60, 60, 260, 180), fill=(230, 120, 30))
    image.save(path, "JPEG", quality=85)
    return path


class Shots:
    """Numbered screenshots: ebike-01-…png, ebike-02-…png …"""

    def __init__(self, folder) -> None:
        self.folder, self.n = folder, 0

    def path(self, name: str):
        self.n += 1
        return self.folder / f"ebike-{self.n:02d}-{name}.png"

    def __call__(self, page, name: str, full: bool = True) -> None:
        page.screenshot(path=str(self.path(name)), full_page=full)


# ---- the workflow designer, driven as a person does ---------------------------------------


def _pick(page, name: str, *labels: str) -> None:
    """Tick choices (by Chinese label) in a checkbox picker such as transitions-2-roles."""
    if name.endswith(("-levels", "-guards", "-effects")):  # under the row's 「更多设置」
        _more(page, int(name.split("-")[1]))
    picker = page.locator(f"details#f-{name}")
    if picker.get_attribute("open") is None:
        picker.locator("summary").click()
    for label in labels:
        picker.get_by_label(label, exact=True).check()
    picker.locator("summary").click()  # close it again


def _more(page, i: int):
    """Open the 「更多设置」 part of transition row ``i``."""
    more = page.locator("tbody[data-wfd-row=transitions]").nth(i).locator("details[data-wfd-more]")
    if more.get_attribute("open") is None:
        more.locator(":scope > summary").click()
    return more


def _add_state(page, key: str, title: str) -> None:
    page.locator("button[name=add_state]").click()
    row = page.locator("[data-wfd-row=states]").last
    row.locator("input[name$=-key]").fill(key)
    row.locator("input[name$=-title]").fill(title)


def _transition(page, i: int, title: str, name: str, sources: list[str], to: str, roles: list[str],
                comment: bool = False) -> None:
    """Fill row ``i`` of the 流转 table (added by the caller when it is new)."""
    p = f"transitions-{i}"
    page.locator(f"input[name={p}-title]").fill(title)
    page.locator(f"input[name={p}-name]").fill(name)
    if sources:
        _pick(page, f"{p}-from", *sources)
    page.locator(f"select[name={p}-to]").select_option(label=to)
    if roles:
        _pick(page, f"{p}-roles", *roles)
    page.locator(f"input[name={p}-comment]").set_checked(comment)


def _step_limit(page, i: int, title: str, amount: str) -> None:
    _more(page, i)
    page.locator(f"input[name=transitions-{i}-step_title]").fill(title)
    page.locator(f"input[name=transitions-{i}-step_amount]").fill(amount)
    page.locator(f"select[name=transitions-{i}-step_unit]").select_option("working_days")


def _field(page, i: int, title: str, name: str, kind: str, required: bool) -> None:
    more = _more(page, i)
    more.locator("button[name=add_field]").click()
    row = more.locator("[data-wfd-row=fields]").last
    row.locator("input[name$=-title]").fill(title)
    row.locator("input[name$=-name]").fill(name)
    row.locator("select[name$=-kind]").select_option(label=kind)
    row.locator("input[name$=-required]").set_checked(required)


def _build_the_matter(page, base: str, shot: Shots) -> None:
    browser_login(page, base, "admin")
    page.goto(f"{base}/admin/workflows")
    page.get_by_role("link", name="新建事项类型").click()
    page.wait_for_url(f"{base}/admin/workflows/new")
    page.get_by_label("名称").fill("电动车违规充电隐患")
    page.get_by_label("编号前缀").fill("DC")
    page.get_by_label("适用范围").select_option(label="　澄湖街道（339901001）")
    page.get_by_label("标识").fill("ebike_charging")
    shot(page, "new-type")
    page.get_by_role("button", name="创建并开始设计").click()
    page.wait_for_url(f"{base}/admin/workflows/ebike_charging/design")

    # 时限: 5 working days; overdue → the street at once
    page.locator("input[name=sla-default_amount]").fill("5")
    page.locator("select[name=sla-default_unit]").select_option("working_days")
    page.locator("button[name=add_escalation]").click()
    page.locator("input[name=sla-escalation-0-amount]").fill("0")
    page.locator("select[name=sla-escalation-0-unit]").select_option("hours")
    page.locator("select[name=sla-escalation-0-level]").select_option(label="街道")

    # 状态: the blank workflow has 已上报 → 已办结
    page.locator("input[name=states-1-title]").fill("已结案")
    _add_state(page, "verified", "待派单")
    _add_state(page, "rectifying", "整改中")
    _add_state(page, "rechecking", "待复查")

    # 流转: the blank 办结 becomes 核实; four more rows
    _transition(page, 0, "核实", "verify", [], "待派单", [])  # 已上报 and 工作人员 are ticked already
    _pick(page, "transitions-0-levels", "社区")

    page.locator("button[name=add_transition]").click()
    _transition(page, 1, "分派整改", "dispatch", ["待派单"], "整改中", ["工作人员"])
    _pick(page, "transitions-1-effects", "分派承办单位")
    _step_limit(page, 1, "整改", "3")
    _field(page, 1, "承办单位", "unit", "文本", required=True)

    page.locator("button[name=add_transition]").click()
    _transition(page, 2, "整改完成", "rectified", ["整改中"], "待复查", ["工作人员", "职能部门"])
    _pick(page, "transitions-2-guards", "须为承办单位办理", "须有附件")
    _field(page, 2, "整改照片", "rectify_photos", "照片", required=True)

    page.locator("button[name=add_transition]").click()
    _transition(page, 3, "复查通过", "recheck_pass", ["待复查"], "已结案", ["工作人员", "网格员"])
    _pick(page, "transitions-3-guards", "须有附件")
    _field(page, 3, "复查照片", "recheck_photos", "照片", required=True)

    page.locator("button[name=add_transition]").click()
    _transition(page, 4, "复查不通过", "recheck_fail", ["待复查"], "整改中", ["工作人员", "网格员"], comment=True)
    _pick(page, "transitions-4-guards", "须有附件")
    _step_limit(page, 4, "整改", "3")
    _field(page, 4, "复查照片", "recheck_photos", "照片", required=False)

    diagram = page.locator("[data-wfd-diagram]")  # redrawn by the server as the tables change
    expect(diagram.locator(".wf-state[data-state=rechecking]")).to_have_text("待复查")
    expect(diagram.locator('.wf-arrow[data-from="rechecking"][data-to="rectifying"]')).to_contain_text("复查不通过")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "designer-tables")

    page.get_by_label("修改说明").fill("电动车违规充电隐患：核实、分派整改、复查")
    page.locator("[data-wfd-save]").click()
    page.wait_for_url(f"{base}/admin/workflows/ebike_charging/design")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    shot(page, "designer-saved")

    page.get_by_role("link", name="查看与发布").click()
    page.wait_for_url(f"{base}/admin/workflows/ebike_charging")
    page.get_by_label("发布说明").fill("试运行")
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_url(f"{base}/admin/workflows/ebike_charging")
    expect(page.get_by_text("已发布为第 1 版")).to_be_visible()
    expect(page.locator("svg.wf-diagram .wf-state[data-state=rectifying]")).to_have_text("整改中")
    shot(page, "type-published")


def _check_the_published_definition(app) -> None:
    """What the tables wrote is the agreed matter (the shared design contract, §5)."""
    from fengqiao.cases.case_types import current_definitions

    with app.app_context():
        d = current_definitions(["ebike_charging"])["ebike_charging"].definition
    assert (d["key"], d["prefix"], d["org"]) == ("ebike_charging", "DC", "339901001")
    assert d["sla"] == {"default": {"working_days": 5}, "escalation": [{"after": {"hours": 0}, "level": "street"}]}
    wf = d["workflow"]
    assert wf["initial"] == "reported"
    assert [(s["key"], s["title"], s.get("final", False)) for s in wf["states"]] == [
        ("reported", "已上报", False), ("closed", "已结案", True), ("verified", "待派单", False),
        ("rectifying", "整改中", False), ("rechecking", "待复查", False)]
    t = {x["name"]: x for x in wf["transitions"]}
    assert list(t) == ["verify", "dispatch", "rectified", "recheck_pass", "recheck_fail"]
    assert (t["verify"]["roles"], t["verify"]["levels"], t["verify"].get("guards")) == (["staff"], ["community"], None)
    assert t["dispatch"]["effects"] == ["dispatch"] and t["dispatch"]["fields"]["required"] == ["unit"]
    assert t["dispatch"]["step_limit"] == {"title": "整改", "default": {"working_days": 3}}
    assert t["recheck_fail"]["step_limit"] == {"title": "整改", "default": {"working_days": 3}}
    assert sorted(t["rectified"]["guards"]) == ["attachment_required", "dispatched_unit"]
    assert t["rectified"]["fields"]["properties"]["rectify_photos"] == {
        "type": "array", "title": "整改照片", "items": {"type": "string", "format": "attachment"},
        "maxItems": 9, "minItems": 1}
    assert sorted(t["recheck_fail"]["guards"]) == ["attachment_required", "comment_required"]
    assert "required" not in t["recheck_fail"]["fields"]


# ---- the form designer ----------------------------------------------------------------------


def _build_the_form(page, base: str, shot: Shots) -> None:
    page.goto(f"{base}/admin/forms")
    page.get_by_role("link", name="新建表单").click()
    page.wait_for_url(f"{base}/admin/forms/new")
    page.get_by_label("表单名称", exact=True).fill("电动车违规充电隐患上报")
    page.get_by_label("表单标识", exact=True).fill(FORM)
    page.get_by_label("谁可以填写").select_option("staff")
    page.get_by_label("事项类型（办理流程）").select_option(label="电动车违规充电隐患（ebike_charging）")
    add_field(page, "隐患标题", "title", "单行文本", required=True)
    add_field(page, "现场照片", "photos", "图片", required=True)
    add_field(page, "地址", "address", "单行文本", required=True)
    add_field(page, "情况描述", "description", "多行文本")
    page.get_by_label("事项标题取自").select_option(label="隐患标题 · title")
    preview = page.locator("[data-designer-preview]")
    expect(preview.get_by_role("heading", name="电动车违规充电隐患上报")).to_be_visible()
    expect(preview.get_by_text("现场照片")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "form-designer")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(f"{base}/admin/forms/{FORM}/edit")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    page.get_by_role("button", name="发布第 1 版").click()
    page.wait_for_url(f"{base}/admin/forms/{FORM}")
    expect(page.get_by_text("已发布第 1 版")).to_be_visible()
    shot(page, "form-published")


# ---- the case ----------------------------------------------------------------------------------


def _report(worker, base: str, photo, title: str) -> str:
    worker.goto(f"{base}/forms/{FORM}")
    worker.get_by_label("隐患标题").fill(title)
    worker.get_by_label("现场照片").set_input_files(str(photo))
    worker.get_by_label("地址").fill("揽月花园 7 幢 1 单元楼道")
    worker.get_by_label("情况描述").fill("楼道内私拉电线为电动车充电，堵塞疏散通道。")
    return worker


def _submit(worker, base: str) -> str:
    worker.get_by_role("button", name="提交", exact=True).click()
    worker.wait_for_url(f"{base}/forms/{FORM}/done")
    number = worker.locator(".case-number").inner_text()
    assert number.startswith("DC"), number
    return number


def _state(page, base: str, number: str) -> str:
    page.goto(f"{base}/cases/{number}")
    return page.locator("dl.facts .badge").first.inner_text()


def _act_with_photo(page, base: str, number: str, button: str, field: str, photo, comment: str | None = None):
    page.goto(f"{base}/cases/{number}")
    form = case_action_form(page, button)
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    if photo is not None:
        form.locator(f"input[name=field_{field}]").set_input_files(str(photo))
    form.get_by_role("button", name=button, exact=True).click()
    return form


@pytest.mark.slow
def test_the_ebike_charging_matter_from_design_to_escalation(demo, live_server, page, _chromium,
                                                              screenshot_dir, photo):
    base, shot = live_server, Shots(screenshot_dir)
    _build_the_matter(page, base, shot)
    _check_the_published_definition(demo)
    _build_the_form(page, base, shot)

    # the grid worker reports it on a phone, with a photo
    worker = person_page(_chromium, base, "zhangmin", phone=True)
    _report(worker, base, photo, "揽月花园 7 幢楼道电动车违规充电")
    shot(worker, "report-phone")
    number = _submit(worker, base)
    shot(worker, "reported-phone")

    community = person_page(_chromium, base, "shenli")
    assert _state(community, base, number) == "已上报"
    act_on_case(community, base, number, "核实", comment="现场核实属实", shot=shot.path("verify"))
    act_on_case(community, base, number, "分派整改", fields={"unit": PROPERTY},
                shot=shot.path("dispatch"))
    expect(community.locator("dl.facts .badge").first).to_have_text("整改中")
    expect(community.locator(".step-due")).to_contain_text("整改 截止")
    shot(community, "rectifying")

    # the property company's liaison must attach a photo at 整改完成
    department = person_page(_chromium, base, "wuye")
    _act_with_photo(department, base, number, "整改完成", "rectify_photos", None, comment="已拆除私拉电线")
    refused = case_action_form(department, "整改完成")
    expect(refused.get_by_role("alert")).to_have_text("请上传整改照片")
    # said at the top too, where the page opens: the form is far below
    expect(department.locator(".step-refused")).to_contain_text("「整改完成」未办理：请上传整改照片")
    expect(department.locator(".step-refused")).to_be_in_viewport()
    expect(department.locator("dl.facts .badge").first).to_have_text("整改中")
    shot(department, "rectify-refused")
    _act_with_photo(department, base, number, "整改完成", "rectify_photos", photo, comment="已拆除私拉电线")
    expect(department.get_by_text("已办理，当前状态")).to_be_visible()
    expect(department.locator("dl.facts .badge").first).to_have_text("待复查")
    shot(department, "rectified")

    # the grid worker rechecks: not yet (photo + comment) → 整改中 again
    _act_with_photo(worker, base, number, "复查不通过", "recheck_photos", None, comment="楼道仍有充电线")
    expect(case_action_form(worker, "复查不通过").get_by_role("alert")).to_have_text("此步骤须上传照片或附件")
    assert worker.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    shot(worker, "recheck-refused-phone")
    _act_with_photo(worker, base, number, "复查不通过", "recheck_photos", photo, comment="楼道仍有充电线")
    expect(worker.get_by_text("已办理，当前状态")).to_be_visible()
    expect(worker.locator("dl.facts .badge").first).to_have_text("整改中")
    expect(worker.locator(".step-due")).to_contain_text("整改 截止")
    shot(worker, "recheck-failed-phone")

    _act_with_photo(department, base, number, "整改完成", "rectify_photos", photo, comment="充电线已全部清除")
    expect(department.locator("dl.facts .badge").first).to_have_text("待复查")
    _act_with_photo(worker, base, number, "复查通过", "recheck_photos", photo, comment="复查合格")
    expect(worker.get_by_text("已办理，当前状态")).to_be_visible()
    expect(worker.locator("dl.facts .badge").first).to_have_text("已结案")
    shot(worker, "closed-phone")

    community.goto(f"{base}/cases/{number}")
    community.get_by_role("tab", name=re.compile("流转记录")).click()  # the photos show in its tab
    history = community.locator("ol.timeline").inner_text()
    for step in ["核实", "分派整改", "整改完成", "复查不通过", "复查通过"]:
        assert step in history, step
    thumbs = community.locator("ol.timeline img.step-thumb")
    expect(thumbs).to_have_count(4)  # 整改 ×2, 复查 ×2
    for i in range(4):  # lazy: each loads once scrolled to, and is a real picture
        thumbs.nth(i).scroll_into_view_if_needed()
        community.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbs.nth(i).element_handle())
    shot(community, "closed-history")

    # an overdue case climbs to the street: grid → 社区, then (after the cool-down) → 澄湖街道
    _report(worker, base, photo, "湖畔苑地下车库飞线充电")
    second = _submit(worker, base)
    act_on_case(community, base, second, "核实", comment="属实")
    _sweep_overdue(demo, second)
    community.goto(f"{base}/cases/{second}")
    expect(community.locator("dl.facts").first).to_contain_text("已上报至 澄湖街道")
    street = person_page(_chromium, base, "luojia")
    street.goto(f"{base}/queues?view=escalated")
    expect(street.get_by_role("link", name=second)).to_be_visible()
    assert street.get_by_role("link", name=number).count() == 0  # the closed one is not there
    shot(street, "escalated-queue")
    street.goto(f"{base}/cases/{second}")
    expect(street.locator("dl.facts").first).to_contain_text("已上报至 澄湖街道")
    expect(street.locator("ol.timeline")).to_contain_text("超期自动升级至街道/乡镇：澄湖街道")
    shot(street, "escalated-street")


def _sweep_overdue(app, number: str) -> None:
    """Move the deadline into the past and run the minute's sweep in-process, twice: a case
    climbs one level at a time, the second climb after the cool-down (cases/escalation.py)."""
    from fengqiao.cases.jobs import sla_sweep
    from fengqiao.db import db, utcnow
    from fengqiao.models import Case

    def update(**values) -> None:
        db.execute(sa.update(Case).where(Case.number == number).values(**values))
        db.commit()

    with app.app_context():
        update(deadline=utcnow() - timedelta(hours=2))
        assert sla_sweep()["escalated"] == 1  # → 揽月社区
        db.commit()
        update(escalated_at=utcnow() - timedelta(hours=2))
        assert sla_sweep()["escalated"] == 1  # → 澄湖街道, the ladder's rung
        db.commit()
        case = db.scalar(sa.select(Case).where(Case.number == number))
        assert case.escalated_to.name == "澄湖街道" and case.escalation_level == 1
