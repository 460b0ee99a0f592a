"""A reporter's identity hidden from the handling unit (issue 17, finding 2;
docs/security.md, "Reporter identity hidden from the handling unit").

民生诉求 promises 「举报、投诉类诉求默认对承办单位隐藏您的姓名和电话」: the form marks
``caller_name``/``caller_mobile``/``id_card`` in ``ui.hidden_from_handler`` for 投诉/举报 or
when ``anonymous_to_handler`` is ticked. The handling unit (the case's own community and its
grids, the street above it, a department it was dispatched to) sees ``******`` on the page,
in the API, in exports, cannot reveal (403, audited) and cannot find the case by the phone
tail; the accepting level (the county: ducha) sees the usual masking and may reveal.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa
from security_world import COMMUNITY_B, sign_in

from fengqiao.testing.plugin import api_token

NAME, MOBILE, ID = "陈德福", "13800138000", "339901195203140111"
MASKED = ("陈**", "138****8000", "339901********0111")
IDENTITY = (NAME, MOBILE, ID, *MASKED, "陈*")
DEPARTMENT = "339901902"  # 综合行政执法局 (zhifa)
GRID_B = "339901001002001"  # 桥东新村网格 (chenjing)


def _submit(world, org: str = COMMUNITY_B, **changes) -> dict:
    body = {"request_type": "report", "summary": "桥东菜场占道经营", "content": "早市摊贩占满人行道。",
            "caller_name": NAME, "caller_mobile": MOBILE, "id_card": ID, **changes}
    made = world.bare.post(f"/api/v1/forms/livelihood-request/submissions?org={org}", json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.get_json()


def _detail(world, persona: str, number: str) -> dict:
    response = world.bare.get(f"/api/v1/cases/{number}", headers=world.api_headers(persona))
    assert response.status_code == 200, (persona, response.get_data(as_text=True))
    return response.get_json()


def _client(world, username: str):
    client = world.app.test_client()
    sign_in(client, username)
    return client


def _audit(world, **where):
    from fengqiao.db import db
    from fengqiao.models import AuditEntry

    with world.app.app_context():
        stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return [(e.actor_name, e.outcome, e.case_number, e.field) for e in db.scalars(stmt)]


def _leaks(text: str) -> list[str]:
    return [value for value in IDENTITY if value in text]


def _reveal(world, persona: str, number: str, field: str):
    return world.bare.post(f"/api/v1/cases/{number}/reveal", json={"field": field, "reason": "回访核实"},
                           headers=world.api_headers(persona))


def _cells(data: bytes) -> str:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


def test_the_handling_unit_sees_the_identity_hidden_in_the_api(world):
    """The world's case B is a 投诉 at 桥东社区 (hanzhiming's unit)."""
    data = _detail(world, "hanzhiming", world.case_b)["data"]
    assert data["caller_name"] == "******" and data["caller_mobile"] == "******"
    assert _leaks(str(data)) == []
    assert data["summary"] == "桥东广场夜间噪音"  # the rest of the case stays readable
    county = _detail(world, "ducha", world.case_b)["data"]
    assert county["caller_name"] == "陈**" and county["caller_mobile"] == "138****8000"


@pytest.mark.parametrize(("persona", "org"), [("hanzhiming", COMMUNITY_B), ("chenjing", GRID_B),
                                              ("luojia", COMMUNITY_B)])
def test_the_handling_unit_its_grids_and_the_street_see_it_hidden_on_the_page(world, persona, org):
    number = _submit(world, org)["case_number"]
    page = _client(world, persona).get(f"/cases/{number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _leaks(html) == [] and "已对承办单位隐藏" in html
    assert 'value="/caller_mobile"' not in html and 'value="/caller_name"' not in html  # no reveal button
    assert "桥东菜场占道经营" in html


def test_the_accepting_level_sees_the_usual_masking_and_reveal_buttons(world):
    number = _submit(world)["case_number"]
    html = _client(world, "ducha").get(f"/cases/{number}").get_data(as_text=True)
    assert "陈**" in html and "138****8000" in html and "已对承办单位隐藏" not in html
    assert 'value="/caller_mobile"' in html


def test_reveal_is_403_for_the_handling_unit_and_audited(world):
    number = _submit(world)["case_number"]
    for field in ("/caller_name", "/caller_mobile", "/id_card"):
        refused = _reveal(world, "hanzhiming", number, field)
        assert refused.status_code == 403, refused.get_data(as_text=True)
        error = refused.get_json()["errors"][0]
        assert error["code"] == "hidden_from_handler" and "承办单位" in error["message"]
        assert _leaks(refused.get_data(as_text=True)) == []
    assert _audit(world, case_number=number) == [
        ("hanzhiming", "denied", number, f) for f in ("/caller_name", "/caller_mobile", "/id_card")]
    # the street above the community handles too: refused as well
    street = world.bare.post(f"/api/v1/cases/{number}/reveal", json={"field": "/caller_mobile", "reason": "回访核实"},
                             headers={"Authorization": f"Bearer {api_token(world.app.test_client(), 'luojia')}"})
    assert street.status_code == 403
    # other fields of the same case stay revealable by the handling unit
    assert _reveal(world, "hanzhiming", number, "/summary").status_code == 422  # not masked, not hidden


def test_the_page_reveal_is_403_for_the_handling_unit(world):
    number = _submit(world)["case_number"]
    client = _client(world, "hanzhiming")
    refused = client.post(f"/cases/{number}/reveal", data={"field": "/caller_mobile", "reason": "回访"})
    assert refused.status_code == 403 and _leaks(refused.get_data(as_text=True)) == []


def test_the_accepting_level_reveals_with_a_reason_audited(world):
    number = _submit(world)["case_number"]
    shown = _reveal(world, "ducha", number, "/caller_mobile")
    assert shown.status_code == 200 and shown.get_json() == {"field": "/caller_mobile", "value": MOBILE}
    assert _audit(world, case_number=number) == [("ducha", "ok", number, "/caller_mobile")]
    html = _client(world, "ducha").post(f"/cases/{number}/reveal",
                                        data={"field": "/caller_name", "reason": "回访"}).get_data(as_text=True)
    assert NAME in html


def test_a_department_the_case_was_dispatched_to_sees_it_hidden(world):
    number = _submit(world)["case_number"]
    # the street dispatches to county departments (a community may not, by default)
    headers = {"Authorization": f"Bearer {api_token(world.app.test_client(), 'luojia')}"}
    version = _detail(world, "hanzhiming", number)["version"]
    sent = world.bare.post(f"/api/v1/cases/{number}/actions/dispatch", headers=headers,
                           json={"version": version, "fields": {"unit": DEPARTMENT}})
    assert sent.status_code == 200, sent.get_data(as_text=True)
    detail = _detail(world, "zhifa", number)
    assert _leaks(str(detail)) == [] and detail["data"]["caller_mobile"] == "******"
    assert _reveal(world, "zhifa", number, "/caller_mobile").status_code == 403  # no reveal anyway
    html = _client(world, "zhifa").get(f"/cases/{number}").get_data(as_text=True)
    assert _leaks(html) == []


def test_not_hidden_for_a_request_that_does_not_ask_for_it(world):
    plain = _submit(world, request_type="help")["case_number"]
    assert _detail(world, "hanzhiming", plain)["data"]["caller_mobile"] == "138****8000"
    assert _reveal(world, "hanzhiming", plain, "/caller_mobile").status_code == 200
    ticked = _submit(world, request_type="help", anonymous_to_handler=True)["case_number"]
    assert _detail(world, "hanzhiming", ticked)["data"]["caller_mobile"] == "******"
    assert _reveal(world, "hanzhiming", ticked, "/caller_mobile").status_code == 403
    complaint = _submit(world, request_type="complaint", anonymous_to_handler=False)["case_number"]
    assert _detail(world, "hanzhiming", complaint)["data"]["caller_name"] == "******"


def _rows(data: bytes) -> dict[str, str]:
    """Case number → the row's cells joined (row 1 is the title, row 2 the headers)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[str(v) for v in row if v is not None] for row in sheet.iter_rows(min_row=3, values_only=True)]
    return {row[0]: "\n".join(row) for row in rows if row}


def test_the_submissions_export_hides_it_from_the_handling_unit(world):
    hidden = _submit(world)["case_number"]
    plain = _submit(world, request_type="help")["case_number"]
    url = "/forms/livelihood-request/submissions.xlsx"
    mine = _client(world, "hanzhiming").get(url)
    assert mine.status_code == 200
    rows = _rows(mine.data)
    assert "桥东菜场占道经营" in rows[hidden] and _leaks(rows[hidden]) == [] and "******" in rows[hidden]
    assert "138****8000" in rows[plain]  # the usual masking where nothing is hidden
    county = _rows(_client(world, "ducha").get(url).data)
    assert "陈**" in county[hidden] and "138****8000" in county[hidden]


def test_the_list_and_the_case_ledger_export_hold_no_identity_for_the_handling_unit(world):
    number = _submit(world)["case_number"]
    headers = world.api_headers("hanzhiming")
    listed = world.bare.get("/api/v1/cases", headers=headers)
    assert number in listed.get_data(as_text=True) and _leaks(listed.get_data(as_text=True)) == []
    page = _client(world, "hanzhiming").get("/queues").get_data(as_text=True)
    assert number in page and _leaks(page) == []
    response = world.bare.get("/api/v1/cases/export.xlsx", headers=headers)
    assert response.status_code == 200 and number in _cells(response.data) and _leaks(_cells(response.data)) == []


def test_the_handling_unit_cannot_find_the_case_by_the_phone_tail(world):
    number = _submit(world, caller_mobile="13955557391")["case_number"]
    plain = _submit(world, request_type="help", caller_mobile="13955557391")["case_number"]
    found = world.bare.get("/api/v1/cases?q=7391", headers=world.api_headers("hanzhiming")).get_json()
    numbers = {c["number"] for c in found["items"]}
    assert plain in numbers and number not in numbers
    page = _client(world, "hanzhiming").get("/queues?q=7391").get_data(as_text=True)
    assert plain in page and number not in page
    county = world.bare.get("/api/v1/cases?q=7391", headers=world.api_headers("ducha")).get_json()
    assert {number, plain} <= {c["number"] for c in county["items"]}
    # the number itself and the title still find it: only the hidden value is not searchable
    by_number = world.bare.get(f"/api/v1/cases?q={number}", headers=world.api_headers("hanzhiming")).get_json()
    assert [c["number"] for c in by_number["items"]] == [number]


def test_staff_following_the_case_on_track_see_no_identity(world):
    made = _submit(world)
    client = _client(world, "hanzhiming")
    page = client.get(f"/track?number={made['case_number']}&code={made['tracking_code']}")
    assert page.status_code == 200 and _leaks(page.get_data(as_text=True)) == []
    api = client.get(f"/api/v1/track/{made['case_number']}?code={made['tracking_code']}")
    assert api.status_code == 200 and _leaks(api.get_data(as_text=True)) == []


def test_a_mark_added_in_a_later_version_hides_data_already_submitted(world):
    """Marks of the latest version apply to older submissions (as ui.personal marks do)."""
    from fengqiao.db import db
    from fengqiao.forms import store

    definition = {
        "key": "hidden-probe", "title": "隐藏测试", "access": "public", "title_field": "summary",
        "schema": {"type": "object", "additionalProperties": False, "required": ["summary"], "properties": {
            "summary": {"type": "string", "title": "标题"},
            "kind": {"type": "string", "title": "类型", "enum": ["举报", "咨询"]},
            "who": {"type": "object", "title": "反映人", "properties": {
                "name": {"type": "string", "title": "姓名"},
                "mobile": {"type": "string", "title": "电话", "format": "cn-mobile"}}}}},
        "ui": {"personal": {"who.name": "name"}},
    }
    with world.app.app_context():
        store.import_definition(definition, publish_now=True)
        db.commit()
    made = world.bare.post(f"/api/v1/forms/hidden-probe/submissions?org={COMMUNITY_B}", json={
        "summary": "样例", "kind": "举报", "who": {"name": NAME, "mobile": MOBILE}})
    number = made.get_json()["case_number"]
    assert _detail(world, "hanzhiming", number)["data"]["who"]["mobile"] == "138****8000"
    marked = {**definition, "ui": {**definition["ui"], "hidden_from_handler": {
        "fields": ["who"], "when": {"kind": ["举报"]}}}}
    with world.app.app_context():
        assert store.import_definition(marked, publish_now=True).version is not None
        db.commit()
    data = _detail(world, "hanzhiming", number)["data"]
    assert data["who"] in ("******", {"name": "******", "mobile": "******"}) and _leaks(str(data)) == []
    assert _reveal(world, "hanzhiming", number, "/who/mobile").status_code == 403
    assert _detail(world, "ducha", number)["data"]["who"] == {"name": "陈**", "mobile": "138****8000"}


def _problems(ui: dict, **extra) -> list[str]:
    from fengqiao.forms.definition import check_definition

    definition = {
        "key": "probe", "title": "测试", "access": "public", "title_field": "summary", **extra,
        "schema": {"type": "object", "properties": {
            "summary": {"type": "string"}, "name": {"type": "string"},
            "kind": {"type": "string", "oneOf": [{"const": "report", "title": "举报"}, {"const": "help", "title": "求助"}]},
            "secret": {"type": "boolean"}}},
        "ui": ui,
    }
    return [f"{p.pointer} {p.message}" for p in check_definition(definition)]


def test_forms_check_validates_the_mark():
    good = {"hidden_from_handler": {"fields": ["name"], "when": {"kind": ["report"], "secret": [True]},
                                    "accepting_level": "county"}}
    assert _problems(good) == []
    assert _problems({"hidden_from_handler": {"fields": ["name"]}}) == []  # always hidden
    unknown = _problems({"hidden_from_handler": {"fields": ["nobody"]}})
    assert any(p.startswith("/ui/hidden_from_handler/fields/0") and "nobody" in p for p in unknown), unknown
    bad_value = _problems({"hidden_from_handler": {"fields": ["name"], "when": {"kind": ["举报"]}}})
    assert any(p.startswith("/ui/hidden_from_handler/when/kind/0") for p in bad_value), bad_value
    bad_flag = _problems({"hidden_from_handler": {"fields": ["name"], "when": {"secret": ["yes"]}}})
    assert any(p.startswith("/ui/hidden_from_handler/when/secret/0") for p in bad_flag), bad_flag
    no_field = _problems({"hidden_from_handler": {"fields": ["name"], "when": {"missing": ["x"]}}})
    assert any(p.startswith("/ui/hidden_from_handler/when/missing") for p in no_field), no_field
    title = _problems({"hidden_from_handler": {"fields": ["summary"]}})
    assert any("title_field" in p or "标题" in p for p in title), title
    level = _problems({"hidden_from_handler": {"fields": ["name"], "accepting_level": "grid"}})
    assert any(p.startswith("/ui/hidden_from_handler/accepting_level") for p in level), level
    empty = _problems({"hidden_from_handler": {"fields": []}})
    assert any(p.startswith("/ui/hidden_from_handler/fields") for p in empty), empty
    extra = _problems({"hidden_from_handler": {"fields": ["name"], "unless": {}}})
    assert any("unless" in p for p in extra), extra


def test_the_shipped_livelihood_request_keeps_its_promise():
    import json

    from fengqiao.forms.core import CORE_DEFINITIONS
    from fengqiao.forms.definition import check_files

    path = CORE_DEFINITIONS / "livelihood-request.json"
    assert check_files([path])[1] == []
    mark = json.loads(path.read_text("utf-8"))["ui"]["hidden_from_handler"]
    assert {"caller_name", "caller_mobile", "id_card"} <= set(mark["fields"])
    assert set(mark["when"]["request_type"]) == {"complaint", "report"} and mark["when"]["anonymous_to_handler"] == [True]


def test_the_phone_tail_search_is_the_same_on_both_databases(client, bearer):
    """The search condition reads the JSON data in SQL: run it on SQLite and PostgreSQL."""
    from fengqiao.testing.plugin import submit_form

    def made(**changes):
        body = {"request_type": "report", "summary": "油烟扰民", "content": "每晚油烟很大。", "caller_name": NAME,
                "caller_mobile": "13955552468", **changes}
        return submit_form(client, "livelihood-request", body, org="339901001001")["case_number"]

    hidden, ticked = made(), made(request_type="help", anonymous_to_handler=True)
    plain, unticked = made(request_type="help"), made(request_type="consult", anonymous_to_handler=False)

    def found(persona):
        items = client.get("/api/v1/cases?q=2468", headers=bearer(persona)).get_json()["items"]
        return {c["number"] for c in items}

    assert found("shenli") == {plain, unticked}
    assert found("ducha") == {hidden, ticked, plain, unticked}


def test_a_file_in_a_hidden_field_is_neither_listed_nor_served_to_the_handling_unit(world):
    from security_world import png_bytes
    from werkzeug.datastructures import FileStorage

    from fengqiao.db import db
    from fengqiao.forms import store
    from fengqiao.forms.uploads import save_upload

    definition = {
        "key": "hidden-photo-probe", "title": "附件隐藏测试", "access": "public",
        "schema": {"type": "object", "properties": {
            "summary": {"type": "string", "title": "标题"},
            "scene": {"type": "array", "title": "现场照片", "items": {"type": "string", "format": "attachment"}},
            "selfie": {"type": "array", "title": "本人照片", "items": {"type": "string", "format": "attachment"}}}},
        "ui": {"hidden_from_handler": {"fields": ["selfie"]}},
    }
    with world.app.test_request_context():
        store.import_definition(definition, publish_now=True)
        scene = save_upload(FileStorage(io.BytesIO(png_bytes()), "现场.png"), "/scene/0", True).id
        selfie = save_upload(FileStorage(io.BytesIO(png_bytes(color="blue")), "本人.png"), "/selfie/0", True).id
        db.commit()
    made = world.bare.post(f"/api/v1/forms/hidden-photo-probe/submissions?org={COMMUNITY_B}",
                           json={"summary": "占道", "scene": [scene], "selfie": [selfie]})
    assert made.status_code == 201, made.get_data(as_text=True)
    number = made.get_json()["case_number"]
    handler, county = _client(world, "hanzhiming"), _client(world, "ducha")
    page = handler.get(f"/cases/{number}").get_data(as_text=True)
    assert f"/attachments/{scene}" in page and f"/attachments/{selfie}" not in page and "本人.png" not in page
    assert handler.get(f"/cases/{number}/attachments/{scene}").status_code == 200
    assert handler.get(f"/cases/{number}/attachments/{selfie}").status_code == 404
    assert f"/attachments/{selfie}" in county.get(f"/cases/{number}").get_data(as_text=True)
    assert county.get(f"/cases/{number}/attachments/{selfie}").status_code == 200


def test_reveal_needs_the_reveal_right_at_the_accepting_level_itself(world):
    """A county viewer who is also community staff sees the usual masking (county view) but
    may not reveal: their reveal right comes from the handling unit."""
    from fengqiao.accounts.service import create_user
    from fengqiao.db import db
    from fengqiao.demo_data import DEMO_PASSWORD
    from fengqiao.models import Membership, OrgUnit

    with world.app.app_context():
        user = create_user("liangji", DEMO_PASSWORD, "staff", COMMUNITY_B, "梁技")
        county = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == "339901"))
        db.add(Membership(user_id=user.id, org_id=county.id, role="viewer"))
        db.commit()
    number = _submit(world)["case_number"]
    headers = {"Authorization": f"Bearer {api_token(world.app.test_client(), 'liangji')}"}
    detail = world.bare.get(f"/api/v1/cases/{number}", headers=headers).get_json()
    assert detail["data"]["caller_mobile"] == "138****8000"
    refused = world.bare.post(f"/api/v1/cases/{number}/reveal", json={"field": "/caller_mobile", "reason": "回访"},
                              headers=headers)
    assert refused.status_code == 403 and refused.get_json()["errors"][0]["code"] == "hidden_from_handler"


def test_the_12345_centre_a_report_landed_at_is_the_accepting_level(world):
    """A 举报 submitted without ``?org=`` lands at the form's accepting unit, the county 12345
    centre (a department): its dispatcher wangqing sees the usual masking and may reveal; the
    community it dispatches to handles it and sees ``******``."""
    made = world.bare.post("/api/v1/forms/livelihood-request/submissions", json={
        "request_type": "report", "summary": "桥东菜场占道经营", "content": "早市摊贩占满人行道。",
        "caller_name": NAME, "caller_mobile": MOBILE, "id_card": ID})
    assert made.status_code == 201, made.get_data(as_text=True)
    number = made.get_json()["case_number"]
    centre = {"Authorization": f"Bearer {api_token(world.app.test_client(), 'wangqing')}"}
    detail = world.bare.get(f"/api/v1/cases/{number}", headers=centre).get_json()
    assert detail["org"] == "339901901" and detail["data"]["caller_mobile"] == "138****8000"
    shown = world.bare.post(f"/api/v1/cases/{number}/reveal", json={"field": "/caller_mobile", "reason": "回访核实"},
                            headers=centre)
    assert shown.status_code == 200 and shown.get_json()["value"] == MOBILE
    sent = world.bare.post(f"/api/v1/cases/{number}/actions/dispatch", headers=centre,
                           json={"version": detail["version"], "fields": {"unit": COMMUNITY_B}})
    assert sent.status_code == 200, sent.get_data(as_text=True)
    handled = _detail(world, "hanzhiming", number)
    assert handled["data"]["caller_mobile"] == "******" and _leaks(str(handled)) == []
    assert _reveal(world, "hanzhiming", number, "/caller_mobile").status_code == 403
