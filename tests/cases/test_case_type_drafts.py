"""Case types made in the UI (issue 20): 新建事项类型, drafts (save / discard / publish /
restore a version), and jurisdiction — an admin sees and edits only the types of their own
units; county-wide types are read-only for a street's admin."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from fengqiao.accounts.service import create_user
from fengqiao.cases import case_types
from fengqiao.cases.case_types import case_type
from fengqiao.cases.jurisdiction import applies_to
from fengqiao.db import db
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.errors import ValidationFailed
from fengqiao.exceptions import Conflict, Forbidden, NotFound
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.models import CaseTypeDraft, CaseTypeVersion, OrgUnit, User
from fengqiao.testing.plugin import csrf_token, login, submit_form

CHENGHU, SHIXI = "339901001", "339901100"  # two streets of the demo county
NEW = "/admin/workflows/new"
INCIDENT = {"summary": "揽月花园5幢路灯不亮", "category": "安全隐患", "description": "5幢门口路灯坏了一周。",
            "location": {"address": "揽月花园5幢"}}


def _user(username: str) -> User:
    return db.scalar(sa.select(User).where(User.username == username))


def _unit(code: str) -> OrgUnit:
    return db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


@pytest.fixture
def street_admins(demo):
    """An admin for each street (forms.manage over that street only)."""
    with demo.app_context():
        create_user("chenghu_admin", DEMO_PASSWORD, "admin", CHENGHU, "澄湖街道管理员")
        create_user("shixi_admin", DEMO_PASSWORD, "admin", SHIXI, "石溪镇管理员")
        db.commit()
    return demo


def _new_type(app, username="chenghu_admin", key="ebike_charging", org=CHENGHU, template=None, prefix="DC"):
    with app.app_context():
        draft = case_types.create_type(_user(username), key, "电动车违规充电隐患", prefix, org, template)
        db.commit()
        return draft.key


def _file_definition(key: str = "grid_incident") -> dict:
    return json.loads((CORE_DEFINITIONS / f"{key}.casetype.json").read_text(encoding="utf-8"))


def _post(client, path: str, data: dict, token_from: str):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


# ---- the list and the new-type page ---------------------------------------------------------


def test_the_list_offers_a_new_type_button(client, login_as):
    """Regression: /admin/workflows had no way to make a new matter type (no 新建)."""
    login_as("admin")
    listing = client.get("/admin/workflows").get_data(as_text=True)
    assert re.search(r'<a class="btn" href="/admin/workflows/new"[^>]*>新建事项类型</a>', listing)
    page = client.get(NEW)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for label in ("名称", "编号前缀", "适用范围", "从模板开始", "标识"):
        assert f">{label}<" in html, label
    assert '<option value="">全县（所有单位）</option>' in html  # the county's admin may choose the whole county
    assert 'value="grid_incident"' in html and "空白流程" in html


def test_creating_a_type_on_the_page_opens_its_draft_and_lists_it(client, login_as, demo):
    login_as("admin")
    response = _post(client, NEW, {"title": "电动车违规充电隐患", "prefix": "DC", "org": CHENGHU,
                                   "template": "", "key": "ebike_charging"}, NEW)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/admin/workflows/ebike_charging/design", "/admin/workflows/ebike_charging")
    with demo.app_context():
        draft = case_types.get_draft("ebike_charging")
        assert draft.base_number is None and draft.updated_by_id == _user("admin").id
        assert draft.definition["org"] == CHENGHU and draft.definition["workflow"]["initial"] == "reported"
        assert db.scalar(sa.select(sa.func.count()).select_from(CaseTypeVersion)
                         .where(CaseTypeVersion.key == "ebike_charging")) == 0
        assert "ebike_charging" in case_types.known_keys() and case_types.is_known("ebike_charging")
        # not published: no form may use it yet, and cases fall back to the generic workflow
        assert "ebike_charging" not in dict(case_types.types_for_scope(_user("admin")))
        assert case_type("ebike_charging").key == "general"
    listing = client.get("/admin/workflows").get_data(as_text=True)
    row = re.search(r'<tr data-case-type="ebike_charging">(.*?)</tr>', listing, re.S).group(1)
    assert "电动车违规充电隐患" in row and "草稿（未发布）" in row and "澄湖街道" in row and 'data-latest="0"' in row
    detail = client.get("/admin/workflows/ebike_charging")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "data-draft" in html and "草稿（未发布）" in html
    assert "/admin/workflows/ebike_charging/draft/publish" in html and "放弃草稿" in html


def test_a_template_copies_the_workflow_and_time_limits(demo):
    key = _new_type(demo, "admin", "noise_night", "", "grid_incident")
    with demo.app_context():
        definition = case_types.get_draft(key).definition
    source = _file_definition()
    assert definition["workflow"] == source["workflow"] and definition["sla"] == source["sla"]
    assert "org" not in definition and definition["prefix"] == "DC" and definition["key"] == "noise_night"


def test_every_refusal_is_listed_at_once_with_its_field(client, login_as):
    login_as("admin")
    response = _post(client, NEW, {"title": "", "prefix": "dc", "org": "nope", "template": "no_such", "key": "Bad Key"},
                     NEW)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写名称", "编号前缀应为 2–4 个大写英文字母", "单位 nope 不存在或已停用", "模板 no_such 不存在",
                    "标识只能用小写字母开头"):
        assert message in html, message
    taken = _post(client, NEW, {"title": "x" * 101, "prefix": "WG", "org": "", "key": "grid_incident"}, NEW)
    html = taken.get_data(as_text=True)
    assert taken.status_code == 422
    assert "名称不能超过 100 个字符" in html and "标识 grid_incident 已被使用" in html
    assert "编号前缀 WG 已被「网格事件」使用" in html
    assert 'value="Bad Key"' not in html  # the second post shows its own input


def test_create_type_service_refusals(street_admins):
    _new_type(street_admins)
    with street_admins.app_context():
        shixi = _user("shixi_admin")
        with pytest.raises(ValidationFailed) as failed:
            case_types.create_type(shixi, "ebike_charging", "电动车", "DC", "", None)
        assert {(p, c) for p, _m, c in failed.value.problems} == {
            ("/key", "key_taken"), ("/prefix", "prefix_taken"), ("/org", "org_scope")}
        assert "只有管理全县的管理员" in failed.value.problems[-1][1]
        with pytest.raises(ValidationFailed) as outside:
            case_types.create_type(shixi, "shixi_fire", "消防", "XF", CHENGHU)
        assert outside.value.problems == [("/org", "「澄湖街道」不在您的管理范围内，请选择您管辖的单位", "org_scope")]
        assert case_types.create_type(shixi, "shixi_fire", "消防", "XF", "339901100201").key == "shixi_fire"


def test_writes_need_the_csrf_token(client, login_as, demo):
    _new_type(demo, "admin")
    login_as("admin")
    assert client.post(NEW, data={"title": "t", "prefix": "TT", "org": "", "key": "tt_type"}).status_code == 400
    for path in ("/admin/workflows/ebike_charging/draft/publish", "/admin/workflows/ebike_charging/draft/discard",
                 "/admin/workflows/grid_incident/versions/1/restore"):
        assert client.post(path, data={"confirm": "1"}).status_code == 400, path
    with demo.app_context():
        assert case_types.get_draft("ebike_charging") is not None
        assert not case_types.is_known("tt_type")


# ---- drafts: save, publish, discard, restore -------------------------------------------------


def test_draft_save_publish_discard_and_restore(demo):
    key = _new_type(demo, "admin")
    with demo.app_context():
        admin = _user("admin")
        definition = copy.deepcopy(case_types.get_draft(key).definition)
        definition["workflow"]["states"].insert(1, {"key": "rectifying", "title": "整改中"})
        definition["workflow"]["transitions"] = [
            {"name": "dispatch", "title": "分派整改", "from": ["reported"], "to": "rectifying", "roles": ["staff"]},
            {"name": "close", "title": "办结", "from": ["rectifying"], "to": "closed", "roles": ["staff"]}]
        draft = case_types.save_draft(key, definition, admin, "加整改")
        assert draft.base_number is None and draft.note == "加整改"
        row = case_types.publish_draft(key, admin, "首次发布")
        assert (row.number, row.source, row.note) == (1, "admin", "首次发布")
        assert case_types.get_draft(key) is None
        db.commit()
        ctype = case_type(key)
        assert ctype.version == 1 and ctype.prefix == "DC" and ctype.org == CHENGHU and "rectifying" in ctype.states
        assert (key, "电动车违规充电隐患") in case_types.types_for_scope(admin)

        changed = copy.deepcopy(definition)
        changed["workflow"]["states"][1]["title"] = "整改"
        assert case_types.save_draft(key, changed, admin).base_number == 1
        case_types.discard_draft(key, admin)
        assert case_types.get_draft(key) is None and case_type(key).state_title("rectifying") == "整改中"
        with pytest.raises(NotFound):
            case_types.discard_draft(key, admin)

        case_types.save_draft(key, changed, admin)
        assert case_types.publish_draft(key, admin).number == 2
        restored = case_types.restore_version(key, 1, admin)
        assert restored.definition == definition and restored.base_number == 2 and restored.note == "恢复第 1 版"
        with pytest.raises(Conflict) as twice:
            case_types.restore_version(key, 1, admin)
        assert "已有未发布的草稿" in twice.value.message
        third = case_types.publish_draft(key, admin)
        assert third.number == 3 and third.definition == definition
        with pytest.raises(NotFound):
            case_types.restore_version(key, 9, admin)


def test_a_draft_listing_every_problem_is_refused(street_admins):
    _new_type(street_admins, "admin", "other_type", "", prefix="OT")
    key = _new_type(street_admins)
    with street_admins.app_context():
        admin = _user("chenghu_admin")
        bad = copy.deepcopy(case_types.get_draft(key).definition)
        bad.update(key="renamed", prefix="WG", org=SHIXI)
        bad["workflow"]["transitions"][0]["to"] = "closd"
        bad["workflow"]["transitions"][0]["roles"] = ["boss"]
        with pytest.raises(ValidationFailed) as failed:
            case_types.save_draft(key, bad, admin, "x" * 501)
        found = {p: m for p, m, _c in failed.value.problems}
        assert "事项类型标识 key 不能修改（应为 ebike_charging）" == found["/key"]
        assert "编号前缀 WG 已被「网格事件」使用" in found["/prefix"]
        assert "「石溪镇」不在您的管理范围内" in found["/org"]
        assert found["/workflow/transitions/0/to"].startswith("第 1 条流转「办结」引用了未定义的状态 closd（可选：reported、closed）")
        assert "角色 boss 无效" in found["/workflow/transitions/0/roles/0"]
        assert "/note" in found
        assert case_types.get_draft(key).definition["workflow"]["transitions"][0]["to"] == "closed"  # unchanged


def test_publishing_a_stale_draft_needs_a_second_look(demo):
    with demo.app_context():
        admin = _user("admin")
        draft_def = _file_definition()
        draft_def["workflow"]["states"][0]["title"] = "待受理（草稿）"
        assert case_types.save_draft("grid_incident", draft_def, admin).base_number == 1
        other = _file_definition()
        other["title"] = "网格事件（JSON 编辑）"
        case_types.save_version("grid_incident", json.dumps(other, ensure_ascii=False), "", admin)
        with pytest.raises(Conflict) as stale:
            case_types.publish_draft("grid_incident", admin)
        assert "草稿基于第 1 版编辑，其后已有第 2 版" in stale.value.message
        assert case_types.save_draft("grid_incident", draft_def, admin).base_number == 2  # looked at again
        assert case_types.publish_draft("grid_incident", admin).number == 3


def test_the_draft_banner_publish_and_discard_pages(client, login_as, demo):
    _new_type(demo, "admin")
    login_as("admin")
    detail = "/admin/workflows/ebike_charging"
    unconfirmed = _post(client, detail + "/draft/discard", {}, detail)
    assert unconfirmed.status_code == 422 and "请勾选「确认放弃草稿」后再提交" in unconfirmed.get_data(as_text=True)
    published = _post(client, detail + "/draft/publish", {"note": "试运行"}, detail)
    assert published.status_code == 302 and published.headers["Location"] == detail
    page = client.get(detail).get_data(as_text=True)
    assert "已发布为第 1 版" in page and "data-draft" not in page
    history = client.get(detail + "/versions").get_data(as_text=True)
    assert "恢复为草稿" in history and "/admin/workflows/ebike_charging/versions/1/restore" in history
    none_left = _post(client, detail + "/draft/publish", {}, detail)
    assert none_left.status_code == 404 and "该事项类型没有未发布的草稿" in none_left.get_data(as_text=True)
    restored = _post(client, detail + "/versions/1/restore", {}, detail + "/versions")
    assert restored.status_code == 302
    same = _post(client, detail + "/draft/publish", {}, detail)
    assert same.status_code == 422 and "与当前第 1 版完全相同" in same.get_data(as_text=True)
    discarded = _post(client, detail + "/draft/discard", {"confirm": "1"}, detail)
    assert discarded.status_code == 302 and discarded.headers["Location"] == detail
    with demo.app_context():
        assert case_types.get_draft("ebike_charging") is None and case_type("ebike_charging").version == 1


def test_discarding_a_new_types_draft_deletes_the_type(client, login_as, demo):
    _new_type(demo, "admin")
    login_as("admin")
    detail = "/admin/workflows/ebike_charging"
    assert client.get(detail + "/edit").status_code == 302  # the JSON editor needs a published version
    response = _post(client, detail + "/draft/discard", {"confirm": "1"}, detail)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/workflows"
    assert client.get(detail).status_code == 404
    with demo.app_context():
        assert db.scalar(sa.select(CaseTypeDraft.id)) is None


def test_publishing_over_open_cases_leads_to_the_migration(client, login_as, bearer, demo):
    submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))
    with demo.app_context():
        renamed = _file_definition()
        renamed["workflow"]["states"][0]["title"] = "待受理（新）"
        case_types.save_draft("grid_incident", renamed, _user("admin"))
        db.commit()
    login_as("admin")
    detail = "/admin/workflows/grid_incident"
    assert "data-draft" in client.get(detail).get_data(as_text=True)
    response = _post(client, detail + "/draft/publish", {"note": "改名"}, detail)
    assert response.status_code == 302
    target = urlparse(response.headers["Location"])
    assert target.path == detail + "/migrate"
    assert parse_qs(target.query) == {"from_version": ["1"], "to_version": ["2"]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已发布为第 2 版" in page and "旧版本还有 1 件在办事项" in page
    assert re.search(r'<option value="1"\s+selected', page) and 'name="map-reported"' in page


# ---- jurisdiction -------------------------------------------------------------------------


def test_another_streets_admin_gets_404_and_county_types_are_read_only(client, street_admins):
    _new_type(street_admins)
    assert login(client, "shixi_admin").status_code == 302
    listing = client.get("/admin/workflows").get_data(as_text=True)
    assert "ebike_charging" not in listing and 'data-case-type="grid_incident"' in listing
    assert "只读" in re.search(r'<tr data-case-type="grid_incident">(.*?)</tr>', listing, re.S).group(1)
    base = "/admin/workflows/ebike_charging"
    for path in (base, base + "/versions", base + "/edit", base + "/migrate", base + "/design"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/admin/workflows")
    for path in (base + "/draft/publish", base + "/draft/discard", base + "/versions/1/restore", base + "/edit"):
        assert client.post(path, data={"csrf_token": token, "confirm": "1"}).status_code == 404, path
    core = "/admin/workflows/grid_incident"
    page = client.get(core)
    assert page.status_code == 200 and "data-read-only" in page.get_data(as_text=True)
    assert client.get(core + "/edit").status_code == 403
    assert client.get(core + "/migrate").status_code == 403
    assert client.post(core + "/versions/1/restore", data={"csrf_token": token}).status_code == 403
    with street_admins.app_context():
        shixi = _user("shixi_admin")
        assert case_types.type_access(shixi, "ebike_charging") is None
        assert case_types.type_access(shixi, "grid_incident") == "view"
        with pytest.raises(NotFound):
            case_types.save_draft("ebike_charging", {}, shixi)
        with pytest.raises(Forbidden):
            case_types.save_draft("grid_incident", _file_definition(), shixi)
        assert "grid_incident" in dict(case_types.types_for_scope(shixi))
        assert case_types.get_draft("ebike_charging") is not None


def test_the_street_admin_edits_their_own_type_and_sees_it_in_the_list(client, street_admins):
    _new_type(street_admins)
    assert login(client, "chenghu_admin").status_code == 302
    page = client.get(NEW).get_data(as_text=True)
    assert "全县（所有单位）" not in page and f'value="{CHENGHU}"' in page and f'value="{SHIXI}"' not in page
    listing = client.get("/admin/workflows").get_data(as_text=True)
    assert 'data-case-type="ebike_charging"' in listing
    detail = "/admin/workflows/ebike_charging"
    assert _post(client, detail + "/draft/publish", {}, detail).status_code == 302
    with street_admins.app_context():
        assert case_type("ebike_charging").version == 1


def test_applies_to_follows_the_unit_subtree(demo):
    with demo.app_context():
        street, community, other = _unit(CHENGHU), _unit("339901001001"), _unit(SHIXI)
        typed = {"key": "x", "org": CHENGHU}
        assert applies_to(typed, street) and applies_to(typed, community) and not applies_to(typed, other)
        assert applies_to({"key": "county_wide"}, other) and not applies_to(typed, None)
        assert applies_to(case_types.case_type("grid_incident"), other)
        assert case_types.applies_to is applies_to  # re-exported for the form engine
