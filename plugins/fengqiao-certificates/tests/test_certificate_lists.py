"""Lists: the seeded national negative list, inheritance, editing, publishing, Excel, API."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.testing import csrf_token
from openpyxl import Workbook, load_workbook

from fengqiao_certificates.lists import effective_items, match, normalise, open_draft, publish
from fengqiao_certificates.models import CertificateList
from fengqiao_certificates.national import ITEMS, ensure_seeded

pytestmark = pytest.mark.plugins("certificates")
# Pure logic and pages run on SQLite only; what depends on the database (seeding races,
# routing, serials, revocation, metrics, migrations) runs on PostgreSQL too.

STREET = "339901001"


def test_national_list_has_20_items_for_every_community(app, demo, client):
    with app.app_context():
        units = [u.code for u in org_units() if u.kind == "territorial" and u.level == "community"]
    assert len(units) >= 4
    for code in units:
        response = client.get(f"/api/v1/p/certificates/items?org={code}&kind=must_not_issue")
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert len(items) == 20
        assert {i["name"] for i in items} == {name for name, _ in ITEMS}
        assert all(i["kind"] == "must_not_issue" and i["referral"] for i in items)
        assert "亲属关系证明" in {i["name"] for i in items}


def test_seeding_is_idempotent(app, demo):
    with app.app_context():
        ensure_seeded()
        assert ensure_seeded() is False
        assert db.scalar(sa.select(sa.func.count()).select_from(CertificateList)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_items_api_validates_its_parameters(app, demo, client):
    assert client.get("/api/v1/p/certificates/items").status_code == 422
    bad = client.get("/api/v1/p/certificates/items?org=339901001001&kind=maybe")
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["pointer"] == "/kind"
    assert client.get("/api/v1/p/certificates/items?org=999999").status_code == 404


def test_may_issue_items_carry_their_time_limit(demo_lists, client):
    items = client.get("/api/v1/p/certificates/items?org=339901001001&kind=may_issue").get_json()["items"]
    assert {i["name"]: i["time_limit_days"] for i in items} == {"实际居住证明": 3, "社区工作经历证明": 0}
    other = client.get("/api/v1/p/certificates/items?org=339901001002&kind=may_issue").get_json()["items"]
    assert other == []  # 桥东社区 did not publish one


def test_street_items_are_inherited_and_national_ones_stay(app, demo):
    with app.app_context():
        draft = open_draft(STREET, "luojia")
        from fengqiao_certificates.lists import add_item

        add_item(draft, {"kind": "must_not_issue", "name": "缴费票据遗失证明", "referral": "向收费单位申请补开票据"})
        publish(draft, "luojia")
        db.commit()
        names = [i.name for i in effective_items("339901001002", "must_not_issue")]
        assert len(names) == 21 and names[-1] == "缴费票据遗失证明"
        assert len(effective_items("339901100201", "must_not_issue")) == 20  # another street's village


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_normalised_names_match(app, demo):
    assert normalise(" 开具 亲属关系证明 ") == "亲属关系"
    assert normalise("（婚姻状况）证明书") == "婚姻状况"
    with app.app_context():
        assert match("339901001001", "申请开具一份无犯罪记录证明").name == "无犯罪记录证明"
        assert match("339901001001", "养老保险缴费证明") is None


def _form(client, url):
    return csrf_token(client, url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_edits_a_draft_with_chinese_validation_and_publishes(demo, client, login_as):
    login_as("shenli")
    base = "/p/certificates/admin/339901001001"
    assert client.get(base).status_code == 200
    token = _form(client, base)
    assert client.post(f"{base}/draft", data={"csrf_token": token}).status_code == 302
    bad = client.post(f"{base}/items", data={"csrf_token": token, "kind": "may_issue", "name": "",
                                             "time_limit_days": "abc"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "请填写证明名称" in text and "办理时限应为 0 至 60 之间的整数" in text
    no_referral = client.post(f"{base}/items", data={"csrf_token": token, "kind": "must_not_issue", "name": "某证明"})
    assert "请填写替代办理途径" in no_referral.get_data(as_text=True)
    ok = client.post(f"{base}/items", data={"csrf_token": token, "kind": "may_issue", "name": "实际居住证明",
                                            "time_limit_days": "2", "materials": "身份证"})
    assert ok.status_code == 302
    dup = client.post(f"{base}/items", data={"csrf_token": token, "kind": "may_issue", "name": "实际居住 证明",
                                             "time_limit_days": "2"})
    assert "清单中已有同名证明事项" in dup.get_data(as_text=True)
    assert client.post(f"{base}/publish", data={"csrf_token": token, "title": "揽月社区清单",
                                                "effective_from": "2026-13-01"}).status_code == 422
    assert client.post(f"{base}/publish", data={"csrf_token": token, "title": "揽月社区清单",
                                                "source_document": "澄街〔2026〕3号"}).status_code == 302
    items = client.get("/api/v1/p/certificates/items?org=339901001001&kind=may_issue").get_json()["items"]
    assert [(i["name"], i["time_limit_days"]) for i in items] == [("实际居住证明", 2)]
    # a second version: edit the copy, publish; version 1 stays viewable
    client.post(f"{base}/draft", data={"csrf_token": token})
    page = client.get(base).get_data(as_text=True)
    assert "第 2 版草稿" in page
    with client.application.app_context():
        item_id = open_draft("339901001001", None).items[0].id
    client.post(f"{base}/items/{item_id}", data={"csrf_token": token, "kind": "may_issue", "name": "实际居住证明",
                                                 "time_limit_days": "0"})
    client.post(f"{base}/publish", data={"csrf_token": token, "title": "揽月社区清单"})
    items = client.get("/api/v1/p/certificates/items?org=339901001001&kind=may_issue").get_json()["items"]
    assert items[0]["time_limit_days"] == 0
    old = client.get(f"{base}/v/1")
    assert old.status_code == 200 and "2 个工作日" in old.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staff_cannot_manage_other_units_or_the_national_list(demo, client, login_as):
    login_as("hanzhiming")  # 桥东社区
    assert client.get("/p/certificates/admin/339901001001").status_code == 404
    assert client.get("/p/certificates/admin/national").status_code == 404
    assert client.get("/p/certificates/admin/339901001002").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_excel_export_then_import_round_trips(demo_lists, client, login_as):
    login_as("shenli")
    base = "/p/certificates/admin/339901001001"
    exported = client.get(f"{base}/v/1/export.xlsx")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "证明名称" and rows[2][1] == "实际居住证明"
    sheet.append(["不应出具", "缴费票据遗失证明", "", "", None, "", "", "向收费单位申请补开票据"])
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    token = csrf_token(client, base)
    response = client.post(f"{base}/import", data={"csrf_token": token, "file": (io.BytesIO(buffer.getvalue()), "l.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.application.app_context():
        names = [i.name for i in open_draft("339901001001", None).items]
    assert names == ["实际居住证明", "社区工作经历证明", "缴费票据遗失证明"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_excel_import_reports_bad_rows_and_changes_nothing(demo_lists, client, login_as):
    login_as("shenli")
    base = "/p/certificates/admin/339901001001"
    book = Workbook()
    book.active.append(["类别", "证明名称", "申请人", "所需材料", "办理时限（工作日，0=当场）", "出具模板", "不应出具原因", "替代办理途径"])
    book.active.append(["可以出具", "好证明", "", "", 2, "", "", ""])
    book.active.append(["随便", "", "", "", "", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    token = csrf_token(client, base)
    response = client.post(f"{base}/import", data={"csrf_token": token, "file": (io.BytesIO(buffer.getvalue()), "l.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "第 3 行" in text and "请填写证明名称" in text
    garbage = client.post(f"{base}/import", data={"csrf_token": token, "file": (io.BytesIO(b"not excel"), "x.xlsx")},
                          content_type="multipart/form-data")
    assert garbage.status_code == 422 and "无法读取该文件" in garbage.get_data(as_text=True)
    with client.application.app_context():
        from fengqiao_certificates.lists import draft_of

        assert draft_of("339901001001") is None  # the draft opened for the import rolled back


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_posting_page_is_public_with_picker_qr_and_print_css(demo_lists, client):
    picker = client.get("/p/certificates/")
    assert picker.status_code == 200 and "揽月社区" in picker.get_data(as_text=True)
    page = client.get("/p/certificates/?org=339901001001")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "实际居住证明" in text and "亲属关系证明" in text and "data:image/png;base64," in text
    assert "/forms/certificate-request?org=339901001001" in text
    link = re.search(r'href="(/forms/certificate-request\?org=339901001001&amp;certificate=[^"]+)"', text)
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="certificate"[^>]*value="[^"]+"', form)  # each item's link fills it in
    css = client.get("/p/certificates/static/certificates.css")
    assert css.status_code == 200 and b"@media print" in css.data
    assert client.get("/p/certificates/?org=nowhere").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_index_lists_the_units_each_person_manages(demo, client, login_as, app):
    login_as("admin")
    page = client.get("/p/certificates/admin").get_data(as_text=True)
    assert "全国（国务院部门清单）" in page and "第 1 版（20 项）" in page and "揽月社区" in page
    assert client.get("/p/certificates/admin/national").status_code == 200
    other = app.test_client()
    from fengqiao.sdk.testing import login

    login(other, "shenli")
    mine = other.get("/p/certificates/admin").get_data(as_text=True)
    assert "揽月社区" in mine and "全国" not in mine and "桥东社区" not in mine


def test_two_drafts_at_once_give_one_draft_and_never_a_500(demo, app):
    import threading

    from fengqiao.sdk.testing import login

    clients = [app.test_client() for _ in range(3)]
    tokens = []
    for c in clients:
        login(c, "shenli")
        tokens.append(csrf_token(c, "/p/certificates/admin/339901001001"))
    barrier, statuses = threading.Barrier(len(clients)), []

    def post(c, token):
        barrier.wait()
        statuses.append(c.post("/p/certificates/admin/339901001001/draft", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 3 and set(statuses) <= {302, 409} and 302 in statuses
    with app.app_context():
        drafts = db.scalars(sa.select(CertificateList).where(CertificateList.org_code == "339901001001"))
        assert [d.status for d in drafts] == ["draft"]
