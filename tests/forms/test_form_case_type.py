"""A form's case type (issue 20): chosen from the types that exist and apply in the admin's
scope, refused when unknown or unpublished at every admin path (designer save, 导入, 发布,
``fengqiao forms import``), shown as a routing change in the diff, and enforced at submission
when the type has a jurisdiction (``org``)."""

from __future__ import annotations

import copy
import html
import io
import json
import re

import pytest

from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import csrf_token, login

STRONG = "Qz7#pLm2vR9!kT"
EBIKE = ("ebike_charging", "电动车违规充电隐患", "DC", "339901001")  # 澄湖街道 only
CASE_TYPE_ITEM = re.compile(r'data-case-type="([^"]*)"')

EBIKE_FORM = {
    "key": "ebike-report",
    "title": "电动车违规充电隐患上报",
    "access": "public",
    "case_type": "ebike_charging",
    "title_field": "summary",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"summary": {"type": "string", "title": "隐患描述", "maxLength": 200}},
        "required": ["summary"],
        "additionalProperties": False,
    },
}


def _add_type(app, key: str, title: str, prefix: str, org: str | None) -> None:
    """A published admin-made type (the grid incident workflow under another key and org)."""
    from fengqiao.cases.case_types import digest_of, store_of
    from fengqiao.db import db
    from fengqiao.models import CaseTypeVersion

    with app.app_context():
        definition = copy.deepcopy(app.extensions["fengqiao.case_types"].definitions["grid_incident"][0])
        definition.update(key=key, title=title, prefix=prefix)
        if org:
            definition["org"] = org
        db.add(CaseTypeVersion(key=key, number=1, definition=definition, source="admin",
                               digest=digest_of(definition), note="test"))
        db.commit()
        store_of(app).forget()


def _publish_form(app, definition: dict) -> None:
    from fengqiao.db import db
    from fengqiao.forms import store

    with app.app_context():
        store.import_definition(copy.deepcopy(definition), "admin", publish_now=True)
        db.commit()


def _admin_at(app, client, username: str, org: str):
    from fengqiao.accounts.service import create_user
    from fengqiao.db import db

    with app.app_context():
        create_user(username, STRONG, "admin", org)
        db.commit()
    assert login(client, username, STRONG).status_code == 302
    return client


def _save(client, url: str, definition: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "definition": json.dumps(definition, ensure_ascii=False)})


@pytest.fixture
def ebike(demo):
    _add_type(demo, *EBIKE)
    _publish_form(demo, EBIKE_FORM)
    return demo


# ---- saving: unknown and unpublished types are refused at every admin path ----------------


def test_unknown_case_type_is_refused_at_designer_save(demo, client, login_as):
    """Regression: ``case_type`` was free text; an unknown key saved and its cases silently
    became 通用事项 with no deadline."""
    login_as("admin")
    form = {**EBIKE_FORM, "key": "typo-form", "case_type": "grid_incidnet"}
    response = _save(client, "/admin/forms/new", form)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "/case_type" in page
    assert "事项类型 grid_incidnet 不存在（可选：" in page and "grid_incident 网格事件" in page
    assert client.get("/admin/forms/typo-form/edit").status_code == 404  # nothing saved


def test_unknown_case_type_is_refused_at_upload_import_and_publish(demo, client, login_as):
    login_as("admin")
    upload = {**EBIKE_FORM, "key": "typo-upload", "case_type": "no_such_type"}
    response = client.post("/admin/forms/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/admin/forms"),
        "definition_file": (io.BytesIO(json.dumps(upload, ensure_ascii=False).encode()), "typo.json")})
    assert response.status_code == 422
    assert "事项类型 no_such_type 不存在" in html.unescape(response.get_data(as_text=True))

    # A draft whose type was fine when saved but no longer exists (a plugin turned off, say).
    from fengqiao.db import db
    from fengqiao.forms import store

    with demo.app_context():
        form = store.get_form("grid-incident")
        form.draft = {**store.get_version("grid-incident").definition, "case_type": "gone_type"}
        db.commit()
    refused = client.post("/admin/forms/grid-incident/publish",
                          data={"csrf_token": csrf_token(client, "/admin/forms/grid-incident/edit")})
    assert refused.status_code == 422
    assert "事项类型 gone_type 不存在" in html.unescape(refused.get_data(as_text=True))


def test_unpublished_case_type_is_refused_with_its_reason(demo, client, login_as):
    from fengqiao.db import db
    from fengqiao.models import CaseTypeDraft

    with demo.app_context():
        definition = copy.deepcopy(demo.extensions["fengqiao.case_types"].definitions["grid_incident"][0])
        definition.update(key="new_matter", title="新事项", prefix="XS")
        db.add(CaseTypeDraft(key="new_matter", definition=definition, base_number=None, note=""))
        db.commit()
    login_as("admin")
    response = _save(client, "/admin/forms/new", {**EBIKE_FORM, "key": "draft-user", "case_type": "new_matter"})
    assert response.status_code == 422
    assert "事项类型 new_matter 尚未发布" in html.unescape(response.get_data(as_text=True))


def test_cli_import_refuses_an_unknown_case_type(database_url, tmp_path):
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_INSTANCE_PATH": str(tmp_path / "i"),
           "FENGQIAO_MODE": "testing"}
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({**EBIKE_FORM, "key": "typo-cli", "case_type": "grid_incidnet"}, ensure_ascii=False))
    result = run_cli(["forms", "import", str(path), "--publish"], env)
    assert result.returncode == 1, result.stdout
    assert "typo-cli: /case_type: 事项类型 grid_incidnet 不存在（可选：" in result.stderr
    assert "grid_incident 网格事件" in result.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps({**EBIKE_FORM, "key": "good-cli", "case_type": "grid_incident"}, ensure_ascii=False))
    assert run_cli(["forms", "import", str(good), "--publish"], env).returncode == 0


def test_shipped_forms_with_plugin_types_still_sync(demo):
    """The start-up sync of shipped files is not an admin's save: it is not checked here."""
    from fengqiao.forms import store

    with demo.app_context():
        assert store.get_version("grid-incident").definition["case_type"] == "grid_incident"


# ---- the designer's choice of types follows the admin's scope ---------------------------------


def test_a_street_admin_is_offered_only_the_types_that_apply_there(ebike, client):
    _admin_at(ebike, client, "shixi_admin", "339901100")  # 石溪镇: not under 澄湖街道
    offered = CASE_TYPE_ITEM.findall(client.get("/admin/forms/new").get_data(as_text=True))
    assert "grid_incident" in offered and "" in offered and "__intake__" in offered
    assert "ebike_charging" not in offered
    refused = _save(client, "/admin/forms/new", {**EBIKE_FORM, "key": "shixi-ebike"})
    assert refused.status_code == 422
    assert "事项类型 ebike_charging 不适用于您管理的单位" in html.unescape(refused.get_data(as_text=True))


def test_an_admin_within_the_types_unit_is_offered_it(ebike, client):
    _admin_at(ebike, client, "chenghu_admin", "339901001")  # 澄湖街道
    offered = CASE_TYPE_ITEM.findall(client.get("/admin/forms/new").get_data(as_text=True))
    assert "ebike_charging" in offered and "grid_incident" in offered
    saved = _save(client, "/admin/forms/new", {**EBIKE_FORM, "key": "chenghu-ebike"})
    assert saved.status_code == 302, saved.get_data(as_text=True)


# ---- the diff shows a routing change ----------------------------------------------------------


def test_diff_names_a_changed_case_type_as_a_routing_change():
    """Regression: a changed ``case_type`` was not in the diff at all."""
    from fengqiao.forms.diff import ROUTING, diff_definitions

    old = {**EBIKE_FORM, "case_type": "grid_incident"}
    titles = {"grid_incident": "网格事件", "ebike_charging": "电动车违规充电隐患"}
    diff = diff_definitions(old, EBIKE_FORM, titles.get)
    assert [(c.kind, c.message, c.routing, c.breaking) for c in diff.changes] == [
        (ROUTING, "办理流程：网格事件 → 电动车违规充电隐患", True, False)]
    assert diff.routing and not diff.breaking
    intake = diff_definitions(old, {**old, "opens_case": False, "access": "staff"})
    assert [c.message for c in intake.changes] == [
        "办理流程：grid_incident → 不建立事项（仅登记）", "填写权限：公开（无需登录） → 工作人员（需登录）"]


def test_designer_and_version_diff_flag_the_routing_change(ebike, client, login_as):
    from fengqiao.forms import store

    login_as("admin")
    with ebike.app_context():
        definition = copy.deepcopy(store.get_version("grid-incident").definition)
    saved = _save(client, "/admin/forms/grid-incident/edit", {**definition, "case_type": "ebike_charging"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = html.unescape(client.get("/admin/forms/grid-incident/edit").get_data(as_text=True))
    assert "办理流程：网格事件 → 电动车违规充电隐患" in page
    assert "data-routing-change" in page and "办理流程变更" in page
    published = client.post("/admin/forms/grid-incident/publish",
                             data={"csrf_token": csrf_token(client, "/admin/forms/grid-incident/edit")})
    assert published.status_code == 302, published.get_data(as_text=True)
    diff = html.unescape(client.get("/admin/forms/grid-incident/diff").get_data(as_text=True))
    assert "办理流程：网格事件 → 电动车违规充电隐患" in diff and "data-routing-change" in diff


# ---- submission: a type with a jurisdiction refuses units outside it ------------------------


def test_api_submission_outside_the_types_unit_is_refused(ebike, client):
    outside = client.post("/api/v1/forms/ebike-report/submissions?org=339901100201", json={"summary": "楼道充电"})
    assert outside.status_code == 422, outside.get_data(as_text=True)
    problems = outside.get_json()
    assert json.dumps(problems, ensure_ascii=False).count("该事项类型仅适用于澄湖街道及其下级单位") == 1
    assert "/org" in json.dumps(problems)
    inside = client.post("/api/v1/forms/ebike-report/submissions?org=339901001001", json={"summary": "楼道充电"})
    assert inside.status_code == 201, inside.get_data(as_text=True)
    assert inside.get_json()["case_number"].startswith("DC-")


def test_web_fill_shows_the_jurisdiction_refusal_at_the_unit(ebike, client):
    url = "/forms/ebike-report?org=339901100201"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "fq_version": "1",
                                      "summary": "楼道充电", "org": "339901100201"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert re.search(r'data-org-error>该事项类型仅适用于澄湖街道及其下级单位<', page)


def test_staff_of_another_street_cannot_file_it_at_their_unit(ebike, client, bearer):
    headers = bearer("fengguoping")  # 石溪村
    refused = client.post("/api/v1/forms/ebike-report/submissions", json={"summary": "充电"}, headers=headers)
    assert refused.status_code == 422
    assert "仅适用于澄湖街道" in refused.get_data(as_text=True)
    allowed = client.post("/api/v1/forms/ebike-report/submissions", json={"summary": "充电"},
                          headers=bearer("shenli"))  # 揽月社区, under 澄湖街道
    assert allowed.status_code == 201, allowed.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_field_editor_chooses_the_case_type_from_a_list(demo, live_server, page):
    from fengqiao.testing.plugin import browser_login

    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/forms/grid-incident/edit")
    select = page.locator("#df-form-caseType")
    assert select.input_value() == "grid_incident"
    labels = select.locator("option").all_inner_texts()
    assert "网格事件（grid_incident）" in labels and "不建立事项（仅登记）" in labels

    def definition() -> dict:
        return json.loads(page.locator("textarea[name=definition]").input_value())

    select.select_option("__intake__")
    assert definition()["opens_case"] is False and "case_type" not in definition()
    select.select_option("whistle")
    assert definition()["case_type"] == "whistle" and "opens_case" not in definition()
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state()  # the click navigates: read the page it leads to, not the one it leaves
    page.get_by_text("办理流程变更").first.wait_for()
    text = html.unescape(page.content())
    assert "办理流程：网格事件 → " in text and "办理流程变更" in text


def test_a_case_types_page_lists_the_forms_that_open_it_and_starts_a_new_one(demo, client, login_as):
    _add_type(demo, *EBIKE)
    login_as("admin")
    page = client.get("/admin/workflows/ebike_charging").get_data(as_text=True)
    assert "尚无表单" in page
    new_form = html.unescape(re.search(r'href="([^"]+)" data-action="new-form"', page).group(1))
    assert new_form == "/admin/forms/new?case_type=ebike_charging"
    editor = client.get(new_form).get_data(as_text=True)
    assert '"case_type": "ebike_charging"' in html.unescape(editor)  # the designer starts on this type
    assert '"case_type": "nowhere"' not in html.unescape(client.get("/admin/forms/new?case_type=nowhere").get_data(as_text=True))
    _publish_form(demo, EBIKE_FORM)
    page = client.get("/admin/workflows/ebike_charging").get_data(as_text=True)
    assert "电动车违规充电隐患上报" in page and "/admin/forms/ebike-report" in page
    assert "电动车违规充电隐患上报" not in client.get("/admin/workflows/grid_incident").get_data(as_text=True)
