"""Versioned case types: file sync, admin edits in the browser editor, the cached lookup,
and moving open cases between versions with an explicit state mapping."""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengqiao.cases import case_types
from fengqiao.cases.case_types import case_type
from fengqiao.db import db
from fengqiao.errors import ValidationFailed
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.models import Case, CaseEvent, CaseTypeVersion, User
from fengqiao.testing.plugin import csrf_token, self_handle_photos, submit_form, walk_case

INCIDENT = {"summary": "揽月花园5幢路灯不亮", "category": "安全隐患", "description": "5幢门口路灯坏了一周。",
            "location": {"address": "揽月花园5幢"}}
EDIT = "/admin/workflows/grid_incident/edit"
MIGRATE = "/admin/workflows/grid_incident/migrate"
NOISE = {
    "key": "noise_report", "title": "噪音投诉", "prefix": "ZY",
    "workflow": {"initial": "open", "states": [{"key": "open", "title": "待处理"},
                                               {"key": "done", "title": "已处理", "final": True}],
                 "transitions": [{"name": "finish", "title": "处理完毕", "from": ["open"], "to": "done",
                                  "roles": ["staff"]}]},
}


def _file_definition(key: str = "grid_incident") -> dict:
    return json.loads((CORE_DEFINITIONS / f"{key}.casetype.json").read_text(encoding="utf-8"))


def _renamed_accepted() -> dict:
    """The grid incident workflow with 已受理 (accepted) renamed to taken/「已接收」."""
    text = json.dumps(_file_definition(), ensure_ascii=False)
    data = json.loads(text.replace('"accepted"', '"taken"'))
    for state in data["workflow"]["states"]:
        if state["key"] == "taken":
            state["title"] = "已接收"
    return data


def _rows(app, key: str) -> list[tuple[int, str]]:
    with app.app_context():
        return [tuple(r) for r in db.execute(
            sa.select(CaseTypeVersion.number, CaseTypeVersion.source)
            .where(CaseTypeVersion.key == key).order_by(CaseTypeVersion.number))]


def _post_edit(client, text: str, note: str = "", base_version: str = "1"):
    return client.post(EDIT, data={"csrf_token": csrf_token(client, EDIT), "definition": text,
                                   "note": note, "base_version": base_version})


def _textarea(html: str) -> str:
    match = re.search(r'<textarea id="definition"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert match, "no editor textarea"
    return unescape(match.group(1))


# ---- sync ---------------------------------------------------------------------------------


def test_sync_creates_version_one_and_an_unchanged_file_adds_none(demo):
    """``demo`` ran ``sync_all_forms``, as ``fengqiao db upgrade`` does."""
    assert _rows(demo, "grid_incident") == [(1, "core")]
    with demo.app_context():
        row = case_types.version_row("grid_incident", 1)
        assert row.digest == case_types.digest_of(_file_definition())
        assert row.definition == _file_definition()
        assert case_types.sync_files(demo) == []
        keys = db.scalars(sa.select(CaseTypeVersion.key).distinct()).all()
        assert set(keys) == {"dispute_mediation", "grid_incident", "livelihood_request",
                             "proxy_service", "whistle"}
        ctype = case_type("grid_incident")
        assert ctype.version == 1 and ctype.title == "网格事件"


def test_a_changed_file_adds_a_version_and_key_order_does_not(app, tmp_path: Path):
    folder = tmp_path / "acme"
    folder.mkdir()
    path = folder / "noise_report.casetype.json"
    registry = app.extensions["fengqiao.case_types"]

    def load(data: dict) -> None:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        registry.load_folder(folder, "acme")

    with app.app_context():
        load(NOISE)
        assert ("noise_report", 1) in case_types.sync_files(app)
        load(dict(reversed(list(NOISE.items()))))  # same content, other key order
        assert case_types.sync_files(app) == []
        changed = copy.deepcopy(NOISE)
        changed["workflow"]["states"][0]["title"] = "待核实"
        load(changed)
        assert case_types.sync_files(app) == [("noise_report", 2)]
        assert case_type("noise_report").state_title("open") == "待核实"
        assert case_type("noise_report", 1).state_title("open") == "待处理"
        db.commit()  # as ``fengqiao db upgrade`` does
    assert _rows(app, "noise_report") == [(1, "acme"), (2, "acme")]


def test_without_a_sync_the_file_is_version_one(app):
    with app.app_context():
        assert _rows(app, "grid_incident") == []
        assert case_type("grid_incident").version == 1
        assert case_type("grid_incident", 1).title == "网格事件"
        assert case_type("no_such_type").key == "general"


# ---- admin edits --------------------------------------------------------------------------


def test_the_editor_refuses_bad_definitions_in_chinese_and_keeps_the_text(client, login_as):
    login_as("admin")
    page = client.get(EDIT)
    assert page.status_code == 200
    assert json.loads(_textarea(page.get_data(as_text=True))) == _file_definition()

    broken = '{"key": "grid_incident", "title": "网格事件",'
    response = _post_edit(client, broken)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "JSON 格式错误" in html and "未保存" in html
    assert _textarea(html).strip() == broken

    unknown = _file_definition()
    unknown["workflow"]["transitions"][0]["to"] = "nowhere"
    text = json.dumps(unknown, ensure_ascii=False, indent=2)
    response = _post_edit(client, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 1 条流转「受理」引用了未定义的状态 nowhere（可选：reported、" in html and "/workflow/transitions/0/to" in html
    assert json.loads(_textarea(html)) == unknown

    renamed = {**_file_definition(), "key": "other_key"}
    response = _post_edit(client, json.dumps(renamed))
    assert response.status_code == 422 and "事项类型标识 key 不能修改（应为 grid_incident）" in response.get_data(as_text=True)

    same = _post_edit(client, json.dumps(_file_definition()))
    assert same.status_code == 422 and "与当前第 1 版完全相同" in same.get_data(as_text=True)
    assert _rows(client.application, "grid_incident") == [(1, "core")]


def test_an_admin_edit_is_a_new_version_and_the_old_one_stays(client, login_as, demo):
    login_as("admin")
    with demo.app_context():
        assert case_type("grid_incident").version == 1  # cached as the latest
    response = _post_edit(client, json.dumps(_renamed_accepted(), ensure_ascii=False), note="受理改称接收")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/workflows/grid_incident")
    assert "已保存为第 2 版" in client.get("/admin/workflows/grid_incident").get_data(as_text=True)
    assert _rows(demo, "grid_incident") == [(1, "core"), (2, "admin")]
    with demo.app_context():
        latest = case_type("grid_incident")
        assert latest.version == 2 and latest.state_title("taken") == "已接收" and "accepted" not in latest.states
        old = case_type("grid_incident", 1)
        assert old.version == 1 and old.state_title("accepted") == "已受理" and "taken" not in old.states
        row = case_types.version_row("grid_incident", 2)
        assert row.note == "受理改称接收" and db.get(User, row.created_by_id).username == "admin"
        assert case_types.sync_files(demo) == []  # the unchanged file does not undo the edit
        assert case_type("grid_incident").version == 2

    stale = _post_edit(client, json.dumps(_file_definition()), base_version="1")
    assert stale.status_code == 409 and "已有人保存了第 2 版" in stale.get_data(as_text=True)


def test_other_processes_saves_show_up_after_the_cache_expires(demo, monkeypatch):
    with demo.app_context():
        assert case_type("grid_incident").version == 1
        db.add(CaseTypeVersion(key="grid_incident", number=2, definition=_renamed_accepted(),
                               source="admin", digest=case_types.digest_of(_renamed_accepted()), note=""))
        db.commit()  # as another worker process would
        assert case_type("grid_incident").version == 1  # no query per call
        monkeypatch.setattr(case_types, "LATEST_TTL", 0.0)
        assert case_type("grid_incident").version == 2


# ---- pages --------------------------------------------------------------------------------


def test_list_diagram_and_history_pages(client, login_as, bearer):
    submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))
    login_as("admin")
    listing = client.get("/admin/workflows").get_data(as_text=True)
    assert "流程设计" in listing and "网格事件" in listing and "吹哨报到" in listing
    row = re.search(r'<tr data-case-type="grid_incident">(.*?)</tr>', listing, re.S).group(1)
    assert 'data-latest="1"' in row and 'data-open-version="1" data-open-count="1"' in row

    detail = client.get("/admin/workflows/grid_incident").get_data(as_text=True)
    svg = re.search(r"<svg .*?</svg>", detail, re.S).group(0)
    for title in ("待受理", "已受理", "已分派", "处置中", "已结案", "受理", "核查通过并结案"):
        assert f">{title}<" in svg or f">{title}、" in svg or f"、{title}<" in svg, title
    assert 'class="wf-state wf-final" data-state="closed"' in svg
    assert 'class="wf-state wf-initial" data-state="reported"' in svg
    assert 'data-from="reported" data-to="accepted"' in svg
    assert "办理时限" in detail and "个工作日" in detail and "24 小时" in detail

    history = client.get("/admin/workflows/grid_incident/versions").get_data(as_text=True)
    assert 'data-version="1"' in history and "系统内置文件" in history
    assert client.get("/admin/workflows/grid_incident/versions/9").status_code == 404
    assert client.get("/admin/workflows/no_such_type").status_code == 404
    bad_version = client.get(MIGRATE + "?from_version=abc")
    assert bad_version.status_code == 422 and "版本号应为正整数：abc" in bad_version.get_data(as_text=True)
    bad_cursor = client.get("/admin/workflows?cursor=A")
    assert bad_cursor.status_code == 422 and "翻页参数无效" in bad_cursor.get_data(as_text=True)


def test_the_type_list_pages_by_key(demo):
    with demo.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        first = case_types.type_page(admin, None, limit=2)
        second = case_types.type_page(admin, first.next_cursor, limit=2)
        third = case_types.type_page(admin, second.next_cursor, limit=2)
    keys = [t.key for page in (first, second, third) for t in page.items]
    assert keys == ["dispute_mediation", "grid_incident", "livelihood_request", "proxy_service", "whistle"]
    assert third.next_cursor is None and first.items[1].title == "网格事件" and first.items[1].source == "core"


def test_diagram_is_well_formed_svg_for_every_shape():
    """Core types plus a loop, a row-skipping arrow, an arrow back up and a stranded state."""
    from xml.etree import ElementTree

    from fengqiao.cases.diagram import layers, workflow_svg
    from fengqiao.cases.workflow import parse_case_type

    odd = copy.deepcopy(NOISE)
    odd["workflow"]["states"] += [{"key": "check", "title": "核查"}, {"key": "lost", "title": "孤立状态"}]
    odd["workflow"]["transitions"] += [
        {"name": "note", "title": "记录", "from": ["open"], "to": "open", "roles": ["staff"]},
        {"name": "to_check", "title": "送核查", "from": ["open"], "to": "check", "roles": ["staff"]},
        {"name": "pass", "title": "核查通过", "from": ["check"], "to": "done", "roles": ["staff"]},
        {"name": "back", "title": "退回", "from": ["done"], "to": "open", "roles": ["staff"]},
    ]
    ctype = parse_case_type(odd)
    assert layers(ctype) == [["open"], ["done", "check"], ["lost"]]
    definitions = [odd] + [_file_definition(k) for k in ("grid_incident", "livelihood_request", "dispute_mediation",
                                                       "proxy_service", "whistle")]
    ns = {"s": "http://www.w3.org/2000/svg"}
    for data in definitions:
        ctype = parse_case_type(data)
        root = ElementTree.fromstring(str(workflow_svg(ctype)))
        states = root.findall(".//s:g[@data-state]", ns)
        assert [g.get("data-state") for g in states] == [k for row in layers(ctype) for k in row]
        pairs = {(s, t.target) for t in ctype.transitions.values() for s in t.sources}
        arrows = root.findall(".//s:g[@data-from]", ns)
        assert {(g.get("data-from"), g.get("data-to")) for g in arrows} == pairs and len(arrows) == len(pairs)
        width, height = (float(v) for v in root.get("viewBox").split()[2:])
        assert width > 100 and height > 100


def test_only_admins_reach_the_pages(client, login_as):
    login_as("shenli")
    for path in ("/admin/workflows", "/admin/workflows/grid_incident", EDIT, MIGRATE):
        assert client.get(path).status_code == 403, path


# ---- migration ----------------------------------------------------------------------------


@pytest.fixture
def three_cases(client, bearer, demo):
    """Version-1 grid incidents: one reported, one accepted, one closed by the grid worker."""
    grid, staff = bearer("zhangmin"), bearer("shenli")
    numbers = [submit_form(client, "grid-incident", INCIDENT, headers=grid)["case_number"] for _ in range(3)]
    walk_case(client, numbers[1], [("accept", {})], staff)
    walk_case(client, numbers[2], [("self_handle", {"comment": "已现场修复",
                                                    "fields": self_handle_photos(client, numbers[2], grid)})], grid)
    return numbers


def _cases(app, numbers):
    with app.app_context():
        return {c.number: (c.workflow_version, c.state, c.version)
                for c in db.scalars(sa.select(Case).where(Case.number.in_(numbers)))}


def _migrations(app) -> list[CaseEvent]:
    with app.app_context():
        return list(db.scalars(sa.select(CaseEvent).where(CaseEvent.action == "migrate_workflow")
                               .order_by(CaseEvent.case_id)))


def test_migration_needs_every_occupied_state_mapped_and_moves_all_or_nothing(client, login_as, three_cases):
    reported, accepted, closed = three_cases
    before = _cases(client.application, three_cases)
    assert {n: v[:2] for n, v in before.items()} == {
        reported: (1, "reported"), accepted: (1, "accepted"), closed: (1, "closed")}
    login_as("admin")
    assert _post_edit(client, json.dumps(_renamed_accepted(), ensure_ascii=False)).status_code == 302

    page = client.get(MIGRATE).get_data(as_text=True)  # defaults: version 1 → latest
    assert 'name="map-reported"' in page and 'name="map-accepted"' in page and 'name="map-closed"' not in page
    token = csrf_token(client, MIGRATE)
    missing = client.post(MIGRATE, data={"csrf_token": token, "from_version": "1", "to_version": "2",
                                         "map-reported": "reported", "map-accepted": ""})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "状态「已受理」（accepted）下有 1 件在办事项，请选择它在第 2 版中对应的状态" in html
    assert re.search(r'<option value="reported"\s+selected', html)  # the choices made are kept
    final = client.post(MIGRATE, data={"csrf_token": token, "from_version": "1", "to_version": "2",
                                       "map-reported": "reported", "map-accepted": "closed"})
    assert final.status_code == 422 and "不能映射到终止状态「已结案」" in final.get_data(as_text=True)
    assert _cases(client.application, three_cases) == before and _migrations(client.application) == []

    done = client.post(MIGRATE, data={"csrf_token": token, "from_version": "1", "to_version": "2",
                                      "map-reported": "reported", "map-accepted": "taken", "note": "受理改称接收"})
    assert done.status_code == 302
    after = _cases(client.application, three_cases)
    assert after[reported] == (2, "reported", before[reported][2] + 1)
    assert after[accepted] == (2, "taken", before[accepted][2] + 1)
    assert after[closed] == before[closed]  # closed cases keep their version
    events = _migrations(client.application)
    assert [(e.from_state, e.to_state, e.comment, e.actor.username) for e in events] == [
        ("reported", "reported", "受理改称接收", "admin"), ("accepted", "taken", "受理改称接收", "admin")]
    deadline = events[0].changes.pop("deadline")  # the same limit: recomputed, unchanged
    assert deadline["from"] == deadline["to"] is not None
    assert events[0].changes == {"from_version": 1, "to_version": 2,
                                 "state_map": {"accepted": "taken", "reported": "reported"}}
    again = client.post(MIGRATE, data={"csrf_token": token, "from_version": "1", "to_version": "2"})
    assert again.status_code == 422 and "第 1 版没有在办事项，无需迁移" in again.get_data(as_text=True)


def test_migration_service_checks_versions(demo, three_cases):
    with demo.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        with pytest.raises(ValidationFailed) as missing:
            case_types.migrate_open_cases("grid_incident", 1, 3, {}, admin)
        assert missing.value.problems == [("/to_version", "第 3 版不存在", "unknown_version")]
        with pytest.raises(ValidationFailed) as same:
            case_types.migrate_open_cases("grid_incident", 1, 1, {}, admin)
        assert same.value.problems[0][1] == "目标版本与原版本相同，请选择另一个版本"
        # a staff member without forms.manage manages no cases: nothing is open for them
        case_types.save_version("grid_incident", json.dumps(_renamed_accepted()), "", admin)
        staff = db.scalar(sa.select(User).where(User.username == "shenli"))
        with pytest.raises(ValidationFailed) as nothing:
            case_types.migrate_open_cases("grid_incident", 1, 2, {"reported": "reported", "accepted": "taken"}, staff)
        assert nothing.value.problems[0][2] == "empty"
        assert case_types.migrate_open_cases(
            "grid_incident", 1, 2, {"reported": "reported", "accepted": "taken"}, admin) == 2
