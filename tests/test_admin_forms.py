"""The form designer at /admin/forms: list, edit drafts, preview, publish, archive, export,
import and compare versions, on a real database, the way an admin's browser posts."""

from __future__ import annotations

import copy
import html
import io
import json
import re

from fengqiao.testing.plugin import csrf_token

CORE_KEYS = ["dispute-registration", "grid-incident", "livelihood-request", "proxy-service", "whistle-request"]
TEXTAREA = re.compile(r'<textarea[^>]*name="definition"[^>]*>\n?(.*?)</textarea>', re.S)

NEW_FORM = {
    "key": "pet-registration",
    "title": "犬只登记",
    "access": "public",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "owner": {"type": "string", "title": "犬主姓名", "maxLength": 50},
            "mobile": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
            "breed": {"type": "string", "title": "品种", "enum": ["中华田园犬", "柯基", "其他"]},
        },
        "required": ["owner", "mobile"],
        "additionalProperties": False,
    },
    "ui": {"order": ["owner", "mobile", "breed"], "widgets": {"breed": "radio"}},
}


def _textarea(response) -> str:
    match = TEXTAREA.search(response.get_data(as_text=True))
    assert match, "no definition textarea on the page"
    return html.unescape(match.group(1))


def _version(app, key: str, number: int | None = None):
    from fengqiao.forms import store

    with app.app_context():
        version = store.get_version(key, number)
        return None if version is None else (version.number, copy.deepcopy(version.definition),
                                             version.breaking)


def _without_address(definition: dict) -> dict:
    """The livelihood form with its optional 事发地址 field removed (a breaking change)."""
    changed = copy.deepcopy(definition)
    del changed["schema"]["properties"]["address"]
    ui = changed["ui"]
    ui["order"].remove("address")
    ui["sections"][0]["fields"].remove("address")
    del ui["placeholders"]["address"]
    ui["trim"].remove("address")
    ui.get("widgets", {}).pop("address", None)  # the address picker
    return changed


def _save(client, url: str, definition) -> object:
    text = definition if isinstance(definition, str) else json.dumps(definition, ensure_ascii=False)
    return client.post(url, data={"csrf_token": csrf_token(client, url), "definition": text})


def _publish(client, key: str, confirm: bool = False):
    data = {"csrf_token": csrf_token(client, f"/admin/forms/{key}/edit")}
    if confirm:
        data["confirm_breaking"] = "1"
    return client.post(f"/admin/forms/{key}/publish", data=data)


def test_list_shows_the_core_forms_with_submission_counts(app, client, login_as):
    submitted = client.post("/api/v1/forms/livelihood-request/submissions", json={
        "request_type": "help", "summary": "楼道灯坏了", "content": "3 幢 2 单元楼道灯不亮",
        "caller_name": "王芳", "caller_mobile": "13800138000"})
    assert submitted.status_code == 201, submitted.get_data(as_text=True)
    login_as("admin")
    page = client.get("/admin/forms")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "表单设计" in text and "新建表单" in text and "导入定义文件" in text
    rows = dict(re.findall(r'<tr data-form-key="([^"]+)">(.*?)</tr>', text, re.S))
    assert sorted(rows) == CORE_KEYS
    assert "民生诉求" in rows["livelihood-request"] and "公开" in rows["livelihood-request"]
    assert "网格事件上报" in rows["grid-incident"] and "工作人员" in rows["grid-incident"]
    counts = {key: re.search(r'data-submissions="(\d+)"', row).group(1) for key, row in rows.items()}
    assert counts == {"dispute-registration": "0", "grid-incident": "0",
                      "livelihood-request": "1", "proxy-service": "0", "whistle-request": "0"}
    for row in rows.values():
        assert "第 1 版" in row and "启用" in row
    assert 'href="/admin/forms/grid-incident/edit"' in text
    assert 'href="/admin/forms"' in client.get("/").get_data(as_text=True)  # menu entry


def test_non_admins_are_refused_on_every_designer_route(client, login_as):
    login_as("shenli")
    token = csrf_token(client, "/")
    for path in ["/admin/forms", "/admin/forms/new", "/admin/forms/grid-incident",
                 "/admin/forms/grid-incident/edit", "/admin/forms/grid-incident/definition.json",
                 "/admin/forms/grid-incident/diff?from=1&to=1"]:
        assert client.get(path).status_code == 403, path
    for path, data in [
        ("/admin/forms/new", {"definition": json.dumps(NEW_FORM)}),
        ("/admin/forms/grid-incident/edit", {"definition": "{}"}),
        ("/admin/forms/preview", {"definition": json.dumps(NEW_FORM)}),
        ("/admin/forms/grid-incident/publish", {"confirm_breaking": "1"}),
        ("/admin/forms/grid-incident/archive", {"archived": "1"}),
        ("/admin/forms/import", {}),
    ]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert 'href="/admin/forms"' not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login_page(client, demo):
    response = client.get("/admin/forms/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_invalid_json_shows_the_problem_and_keeps_the_text(app, client, login_as):
    login_as("admin")
    broken = '{\n  "key": "half-typed",\n  "title": "写了一半'
    response = _save(client, "/admin/forms/new", broken)
    assert response.status_code == 422
    assert "JSON 格式错误：第 3 行" in response.get_data(as_text=True)
    assert _textarea(response) == broken


def test_definition_problems_are_listed_and_nothing_is_saved(app, client, login_as):
    login_as("admin")
    bad = copy.deepcopy(NEW_FORM)
    bad["key"] = "Pet_Registration"
    bad["schema"]["required"].append("chip_number")
    bad["ui"]["order"].append("colour")
    text = json.dumps(bad, ensure_ascii=False, indent=4) + "\n  <注意：保留原样>"
    response = _save(client, "/admin/forms/new", text)
    assert response.status_code == 422 and _textarea(response) == text  # even invalid JSON
    valid_text = json.dumps(bad, ensure_ascii=False, indent=4)
    response = _save(client, "/admin/forms/new", valid_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "草稿未保存" in page
    assert "<code>/key</code> 格式不正确" in page
    assert "<code>/schema/required/2</code> required 中的字段 chip_number 不在 properties 中" in page
    assert "<code>/ui/order/3</code> ui 引用了不存在的字段 colour" in page
    assert _textarea(response) == valid_text
    assert client.get("/admin/forms/pet-registration").status_code == 404


def test_the_key_of_an_existing_form_cannot_be_taken_or_changed(client, login_as):
    login_as("admin")
    taken = dict(NEW_FORM, key="grid-incident")
    response = _save(client, "/admin/forms/new", taken)
    assert response.status_code == 422 and "表单标识 grid-incident 已被使用" in response.get_data(as_text=True)
    reserved = _save(client, "/admin/forms/new", dict(NEW_FORM, key="new"))
    assert reserved.status_code == 422 and "new 是系统保留的标识" in reserved.get_data(as_text=True)
    renamed = dict(NEW_FORM)
    response = _save(client, "/admin/forms/grid-incident/edit", renamed)
    assert response.status_code == 422 and "表单标识不能修改" in response.get_data(as_text=True)
    assert client.get("/admin/forms/pet-registration").status_code == 404


def test_a_new_form_published_from_json_is_offered_to_residents(app, client, login_as):
    login_as("admin")
    saved = _save(client, "/admin/forms/new", NEW_FORM)
    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/forms/pet-registration/edit"
    edit = client.get("/admin/forms/pet-registration/edit").get_data(as_text=True)
    assert "草稿已保存" in edit and "这是第一次发布" in edit and "发布第 1 版" in edit
    assert "犬主姓名" in edit  # the server-rendered preview
    assert "pet-registration" not in [f["key"] for f in app.test_client().get("/api/v1/forms").get_json()]

    published = _publish(client, "pet-registration")
    assert published.status_code == 302 and published.headers["Location"] == "/admin/forms/pet-registration"
    detail = client.get("/admin/forms/pet-registration").get_data(as_text=True)
    assert "已发布第 1 版" in detail and "系统管理员" in detail
    listed = app.test_client().get("/api/v1/forms").get_json()  # a resident, not signed in
    assert {"key": "pet-registration", "title": "犬只登记", "version": 1, "access": "public"} in listed
    assert app.test_client().get("/forms/pet-registration").status_code == 200


def test_preview_renders_unsaved_json_or_lists_its_problems(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/forms/new")
    headers = {"X-CSRFToken": token}
    shown = client.post("/admin/forms/preview", headers=headers,
                        data={"definition": json.dumps(NEW_FORM, ensure_ascii=False)})
    fragment = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "犬主姓名" in fragment and "中华田园犬" in fragment and 'type="radio"' in fragment
    assert "<html" not in fragment and "csrf_token" not in fragment
    untitled = client.post("/admin/forms/preview", headers=headers,
                           data={"definition": json.dumps(dict(NEW_FORM, key="", title=""))})
    assert untitled.status_code == 200 and "（未命名表单）" in untitled.get_data(as_text=True)
    wrong = dict(NEW_FORM, access="everyone")
    refused = client.post("/admin/forms/preview", headers=headers, data={"definition": json.dumps(wrong)})
    assert refused.status_code == 422 and "<code>/access</code>" in refused.get_data(as_text=True)
    as_json = client.post("/admin/forms/preview", headers=headers, data=json.dumps(NEW_FORM),
                          content_type="application/json")
    assert as_json.status_code == 200 and "犬主姓名" in as_json.get_data(as_text=True)
    clash = copy.deepcopy(NEW_FORM)
    clash["schema"]["properties"]["meta"] = {"type": "string"}
    unrenderable = client.post("/admin/forms/preview", headers=headers, data={"definition": json.dumps(clash)})
    assert unrenderable.status_code == 422 and "字段名 meta 不可用" in unrenderable.get_data(as_text=True)
    assert client.post("/admin/forms/preview", data={"definition": "{}"}).status_code == 400  # no CSRF


def test_a_breaking_change_needs_the_confirmation(app, client, login_as):
    login_as("admin")
    _n, v1, _b = _version(app, "livelihood-request", 1)
    assert _save(client, "/admin/forms/livelihood-request/edit", _without_address(v1)).status_code == 302
    edit = client.get("/admin/forms/livelihood-request/edit").get_data(as_text=True)
    assert "<code>address</code>" in edit and "不兼容" in edit
    assert "我已知晓此修改不兼容旧数据，确认发布" in edit

    refused = _publish(client, "livelihood-request")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "未发布" in page and "<strong>address</strong>" in page
    assert _version(app, "livelihood-request")[0] == 1

    accepted = _publish(client, "livelihood-request", confirm=True)
    assert accepted.status_code == 302
    assert "已发布第 2 版" in client.get(accepted.headers["Location"]).get_data(as_text=True)
    number, v2, breaking = _version(app, "livelihood-request")
    assert number == 2 and breaking and "address" not in v2["schema"]["properties"]
    assert _version(app, "livelihood-request", 1)[1] == v1  # the old version is untouched
    assert "address" in v1["schema"]["properties"]


def test_publishing_without_a_draft_explains_why(client, login_as):
    login_as("admin")
    response = _publish(client, "grid-incident")
    assert response.status_code == 422 and "没有待发布的草稿" in response.get_data(as_text=True)


def test_archiving_stops_submissions_and_can_be_undone(app, client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/forms/livelihood-request")
    resident = app.test_client()
    assert resident.get("/forms/livelihood-request").status_code == 200
    archived = client.post("/admin/forms/livelihood-request/archive", data={"csrf_token": token, "archived": "1"})
    assert archived.status_code == 302
    assert "已停用「民生诉求」" in client.get("/admin/forms/livelihood-request").get_data(as_text=True)
    assert resident.get("/forms/livelihood-request").status_code == 410
    assert "已停用" in client.get("/admin/forms").get_data(as_text=True)
    client.post("/admin/forms/livelihood-request/archive", data={"csrf_token": token, "archived": "0"})
    assert resident.get("/forms/livelihood-request").status_code == 200
    bad = client.post("/admin/forms/livelihood-request/archive", data={"csrf_token": token, "archived": "x"})
    assert bad.status_code == 400


def _upload(client, content: bytes, filename: str = "form.json"):
    return client.post("/admin/forms/import", data={
        "csrf_token": csrf_token(client, "/admin/forms"),
        "definition_file": (io.BytesIO(content), filename),
    }, content_type="multipart/form-data")


def test_exported_json_round_trips_through_import(app, client, login_as):
    login_as("admin")
    exported = client.get("/admin/forms/grid-incident/definition.json")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="grid-incident-v1.json"'
    assert exported.mimetype == "application/json"
    assert json.loads(exported.data) == _version(app, "grid-incident", 1)[1]
    assert client.get("/admin/forms/grid-incident/definition.json?version=9").status_code == 404

    same = _upload(client, exported.data, "grid-incident-v1.json")
    assert same.status_code == 302 and same.headers["Location"] == "/admin/forms/grid-incident"
    assert "与当前第 1 版完全相同，无需导入" in client.get(same.headers["Location"]).get_data(as_text=True)

    copied = json.loads(exported.data)
    copied["key"], copied["title"] = "grid-incident-pilot", "网格事件上报（试点）"
    imported = _upload(client, json.dumps(copied, ensure_ascii=False).encode("utf-8-sig"))
    assert imported.status_code == 302
    assert imported.headers["Location"] == "/admin/forms/grid-incident-pilot/edit"
    edit = client.get(imported.headers["Location"])
    assert "已导入「网格事件上报（试点）」为草稿" in edit.get_data(as_text=True)
    assert json.loads(_textarea(edit)) == copied
    assert _publish(client, "grid-incident-pilot").status_code == 302
    again = client.get("/admin/forms/grid-incident-pilot/definition.json?version=1")
    assert json.loads(again.data) == copied


def test_importing_a_broken_file_lists_every_problem(client, login_as):
    login_as("admin")
    broken = _upload(client, b'{"key": "x"', "broken.json")
    assert broken.status_code == 422 and "JSON 格式错误" in broken.get_data(as_text=True)
    invalid = dict(NEW_FORM, access="everyone", title="")
    response = _upload(client, json.dumps(invalid).encode(), "invalid.json")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件 invalid.json 未导入，共 2 处问题" in page
    assert "<code>/access</code> 取值" in page and "<code>/title</code> 不能为空" in page
    assert _upload(client, b"\xff\xfe", "latin.json").status_code == 422
    nothing = client.post("/admin/forms/import", data={"csrf_token": csrf_token(client, "/admin/forms")})
    assert nothing.status_code == 422 and "请选择要导入的 .json 定义文件" in nothing.get_data(as_text=True)


def _without_csrf(page: str) -> str:
    return re.sub(r'(name="csrf[-_]token"[^>]*?(?:value|content)=")[^"]*"', r'\1"', page)


def test_diff_between_versions_shows_the_removed_field_as_breaking(app, client, login_as):
    login_as("admin")
    _n, v1, _b = _version(app, "livelihood-request", 1)
    changed = _without_address(v1)
    changed["schema"]["properties"]["summary"]["title"] = "诉求摘要"
    _save(client, "/admin/forms/livelihood-request/edit", changed)
    assert _publish(client, "livelihood-request", confirm=True).status_code == 302

    detail = client.get("/admin/forms/livelihood-request").get_data(as_text=True)
    assert 'data-version="2"' in detail and 'data-version="1"' in detail and "不兼容" in detail
    diff = client.get("/admin/forms/livelihood-request/diff?from=1&to=2")
    text = diff.get_data(as_text=True)
    assert diff.status_code == 200 and "第 1 版 → 第 2 版" in text
    rows = [tuple(html.unescape(cell) for cell in row) for row in re.findall(
        r"<tr class=\"([^\"]*)\">\s*<td><code>([^<]*)</code></td>\s*<td>([^<]*)</td>", text)]
    assert ("designer-breaking", "address", "删除字段 address（已有数据中的该项将无处显示）") in rows
    assert ("", "summary", 'summary 的名称由 "诉求标题" 改为 "诉求摘要"') in rows
    default = client.get("/admin/forms/livelihood-request/diff").get_data(as_text=True)
    assert _without_csrf(default) == _without_csrf(text)  # the default pair; tokens carry a timestamp
    backwards = client.get("/admin/forms/livelihood-request/diff?from=2&to=1").get_data(as_text=True)
    assert "新增可选字段 address" in backwards
    assert client.get("/admin/forms/livelihood-request/diff?from=1&to=3").status_code == 404
