"""Requests routed three ways, approval issuing a verifiable PDF, revocation, serials under
concurrency, metrics."""

from __future__ import annotations

import io
import threading
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from certificates_testkit import LANYUE, decode_qr, request_certificate
from fengqiao.sdk.cases import case_info, perform_action
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token, login
from fengqiao.sdk.workdays import add_working_days
from openpyxl import load_workbook

from fengqiao_certificates.issuing import issue
from fengqiao_certificates.models import CertificateRequest, IssuedCertificate

pytestmark = pytest.mark.plugins("certificates")
# Pure logic and pages run on SQLite only; what depends on the database (seeding races,
# routing, serials, revocation, metrics, migrations) runs on PostgreSQL too.


def _track(app, sent: dict) -> dict:
    response = app.test_client().get(f"/api/v1/track/{sent['case_number']}?code={sent['tracking_code']}")
    assert response.status_code == 200
    return response.get_json()


def _act(client, headers, number, action, **body):
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version, **body}, headers=headers)


def test_must_not_issue_request_is_refused_with_the_referral(app, demo):
    sent = request_certificate(app, "开具亲属关系证明")
    view = _track(app, sent)
    assert view["state"] == "refused" and view["state_title"] == "不予出具" and view["closed"]
    reply = view["replies"][0]["text"]
    assert "亲属关系证明" in reply and "公证机构" in reply
    with app.app_context():
        row = db.scalar(sa.select(CertificateRequest))
        assert (row.match, row.outcome, row.refused_by) == ("must_not_issue", "refused", "listed")


def test_may_issue_request_starts_the_items_clock(demo_lists):
    app = demo_lists
    sent = request_certificate(app, "实际居住证明")
    with app.app_context():
        info = case_info(sent["case_number"])
        assert info["state"] == "processing"
        assert info["deadline"] == add_working_days(info["created_at"], 3, LANYUE)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_request_by_item_id_wins_over_the_typed_name(demo_lists, client):
    app = demo_lists
    items = client.get(f"/api/v1/p/certificates/items?org={LANYUE}&kind=may_issue").get_json()["items"]
    on_spot = next(i for i in items if i["time_limit_days"] == 0)
    sent = request_certificate(app, "工作证明", item_id=on_spot["id"])
    with app.app_context():
        row = db.scalar(sa.select(CertificateRequest))
        assert row.item_name == "社区工作经历证明" and case_info(sent["case_number"])["state"] == "processing"


def test_unlisted_request_goes_to_the_street_which_decides(demo_lists, client, bearer):
    app = demo_lists
    sent = request_certificate(app, "养老保险缴费证明")
    number = sent["case_number"]
    assert _track(app, sent)["state"] == "street_review"
    community, street = bearer("shenli"), bearer("luojia")
    assert _act(client, community, number, "street_allow", comment="可以").status_code == 403
    queue = client.get("/api/v1/cases?state=street_review", headers=street).get_json()["items"]
    assert [c["number"] for c in queue] == [number]
    street_desk = app.test_client()
    login(street_desk, "luojia")
    assert number in street_desk.get("/queues").get_data(as_text=True)
    assert _act(client, street, number, "street_allow", comment="经研判可由社区出具").status_code == 200
    assert _act(client, community, number, "approve").status_code == 200
    with app.app_context():
        assert db.scalar(sa.select(IssuedCertificate.case_number)) == number
    # the street puts it on its next list version from the 清单外申请 page
    login(client, "luojia")
    token = csrf_token(client, "/p/certificates/unlisted")
    with app.app_context():
        request_id = db.scalar(sa.select(CertificateRequest.id))
    added = client.post(f"/p/certificates/unlisted/{request_id}/list",
                        data={"csrf_token": token, "org": "339901001", "time_limit_days": "2"})
    assert added.status_code == 302
    with app.app_context():
        from fengqiao_certificates.lists import draft_of

        assert [(i.name, i.time_limit_days) for i in draft_of("339901001").items] == [("养老保险缴费证明", 2)]
    history = client.get(f"/api/v1/cases/{number}", headers=street).get_json()["history"]
    assert history[-1]["actor"] == "luojia" and "纳入澄湖街道下一版" in history[-1]["comment"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_street_refusal_reaches_the_resident(demo_lists, client, bearer):
    app = demo_lists
    sent = request_certificate(app, "养老保险缴费证明")
    response = _act(client, bearer("luojia"), sent["case_number"], "street_refuse",
                    fields={"reply": "请到社保经办机构打印缴费记录"})
    assert response.status_code == 200
    assert _track(app, sent)["replies"][-1]["text"] == "请到社保经办机构打印缴费记录"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_materials_can_be_returned_then_approved(demo_lists, client, bearer):
    app = demo_lists
    sent = request_certificate(app, "实际居住证明")
    staff = bearer("shenli")
    assert _act(client, staff, sent["case_number"], "request_materials",
                fields={"reply": "请补充租赁合同"}).status_code == 200
    assert _track(app, sent)["state"] == "materials_missing"
    assert _act(client, staff, sent["case_number"], "materials_received").status_code == 200
    assert _act(client, staff, sent["case_number"], "approve").status_code == 200
    assert _track(app, sent)["state"] == "issued"


def test_approval_issues_a_pdf_with_a_font_and_a_qr_that_verifies(demo_lists, client, bearer):
    app = demo_lists
    sent = request_certificate(app, "实际居住证明")
    assert _act(client, bearer("shenli"), sent["case_number"], "approve").status_code == 200
    with app.app_context():
        serial, code = db.execute(sa.select(IssuedCertificate.serial, IssuedCertificate.verify_code)).one()
    assert serial.startswith(f"ZM{LANYUE}-") and serial.endswith("-000001")
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/p/certificates/download")
    wrong = anonymous.post("/p/certificates/download", data={"csrf_token": token, "number": sent["case_number"],
                                                             "code": "WRONG1"})
    assert wrong.status_code == 404 and "未找到可下载的证明" in wrong.get_data(as_text=True)
    response = anonymous.post("/p/certificates/download", data={
        "csrf_token": token, "number": sent["case_number"], "code": sent["tracking_code"]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    assert pdf.startswith(b"%PDF") and b"/FontFile" in pdf
    url = decode_qr(pdf)
    assert urlparse(url).path == f"/p/certificates/verify/{code}"
    page = anonymous.get(urlparse(url).path)
    assert page.status_code == 200 and "有效证明" in page.get_data(as_text=True)
    body = anonymous.get(f"/api/v1/p/certificates/verify/{code}").get_json()
    assert body["valid"] is True and body["name"] == "实际居住证明" and body["issuer"] == "揽月社区"
    assert body["holder"] == "王**" and "王小明" not in str(body) and body["issued_at"]
    assert anonymous.get("/api/v1/p/certificates/verify/ZM0-2026-000404").status_code == 404
    assert anonymous.get("/p/certificates/verify/ZM0-2026-000404").status_code == 404


def test_revocation_with_a_reason_shows_on_verification(demo_lists, client, bearer, login_as):
    app = demo_lists
    sent = request_certificate(app, "实际居住证明")
    assert _act(client, bearer("shenli"), sent["case_number"], "approve").status_code == 200
    with app.app_context():
        serial, code = db.execute(sa.select(IssuedCertificate.serial, IssuedCertificate.verify_code)).one()
    login_as("shenli")
    token = csrf_token(client, "/p/certificates/issued")
    empty = client.post(f"/p/certificates/issued/{serial}/revoke", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 303
    assert client.get(f"/api/v1/p/certificates/verify/{code}").get_json()["valid"] is True
    done = client.post(f"/p/certificates/issued/{serial}/revoke", data={"csrf_token": token, "reason": "申请人提供虚假材料"})
    assert done.status_code == 302
    body = client.get(f"/api/v1/p/certificates/verify/{code}").get_json()
    assert body["valid"] is False and body["revoke_reason"] == "申请人提供虚假材料"
    assert "已撤销" in app.test_client().get(f"/p/certificates/verify/{code}").get_data(as_text=True)
    other = app.test_client()  # another community's staff never sees it
    login(other, "hanzhiming")
    assert other.get(f"/p/certificates/issued/{serial}.pdf").status_code == 404
    assert client.get(f"/p/certificates/issued/{serial}.pdf").status_code == 200


def test_serials_stay_unique_when_approvals_race(demo_lists):
    app = demo_lists
    numbers = [request_certificate(app, "实际居住证明")["case_number"] for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(numbers))

    def approve(number: str) -> None:
        try:
            with app.app_context():
                barrier.wait()
                issue(number, "shenli")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with app.app_context():
        serials = sorted(db.scalars(sa.select(IssuedCertificate.sequence)))
        assert serials == [1, 2, 3, 4, 5, 6]
        issue(numbers[0], "shenli")  # issuing twice returns the first
        assert db.scalar(sa.select(sa.func.count()).select_from(IssuedCertificate)) == 6


def test_metrics_count_requests_refusals_and_proofs_avoided(demo_lists, client, bearer, login_as):
    app = demo_lists
    request_certificate(app, "亲属关系证明", demanding_agency="某银行营业部")
    request_certificate(app, "无犯罪记录证明", demanding_agency="某银行营业部")
    issued = request_certificate(app, "实际居住证明")
    request_certificate(app, "养老保险缴费证明")
    assert _act(client, bearer("shenli"), issued["case_number"], "approve").status_code == 200
    login_as("luojia")
    page = client.get("/p/certificates/metrics")
    assert page.status_code == 200 and "某银行营业部：2 次" in page.get_data(as_text=True)
    ledger = client.get("/p/certificates/metrics/ledger.xlsx")
    assert ledger.status_code == 200
    rows = list(load_workbook(io.BytesIO(ledger.data)).active.iter_rows(values_only=True))
    lanyue = next(r for r in rows if r[1] == LANYUE)
    assert lanyue[2:9] == (4, 1, 2, 0, 0, 1, 1)
    assert lanyue[9] == 0 and lanyue[10] == 2  # issued the same day; two proofs avoided
    assert client.get("/p/certificates/metrics?start=2026-02-30").status_code == 422
    dashboard = client.get("/").get_data(as_text=True)
    assert "告知替代途径（减少证明）" in dashboard


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_system_refusal_is_in_the_history_without_a_person(app, demo, bearer, client):
    sent = request_certificate(app, "死亡证明")
    case = client.get(f"/api/v1/cases/{sent['case_number']}", headers=bearer("shenli")).get_json()
    last = case["history"][-1]
    assert (last["action"], last["actor"], last["to_state"]) == ("refuse_listed", None, "refused")
    with app.app_context():
        with pytest.raises(Exception):  # noqa: B017,PT011 - the case is closed: APIError 409
            perform_action(sent["case_number"], "accept_listed")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_disputed_refusal_reopens_to_the_street(app, demo, client, bearer):
    sent = request_certificate(app, "婚姻状况证明")
    reopened = app.test_client().post(f"/api/v1/track/{sent['case_number']}/reopen",
                                      json={"code": sent["tracking_code"], "reason": "单位坚持要社区证明"})
    assert reopened.status_code == 200 and reopened.get_json()["state"] == "street_review"
    with app.app_context():
        row = db.scalar(sa.select(CertificateRequest))
        assert (row.outcome, row.refused_by) == ("pending", None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_download_issues_a_certificate_the_approval_failed_to_issue(demo_lists, client, bearer):
    app = demo_lists
    sent = request_certificate(app, "实际居住证明")
    assert _act(client, bearer("shenli"), sent["case_number"], "approve").status_code == 200
    with app.app_context():  # as if the receiver had failed after the approval committed
        db.execute(sa.delete(IssuedCertificate))
        db.commit()
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/p/certificates/download")
    response = anonymous.post("/p/certificates/download", data={
        "csrf_token": token, "number": sent["case_number"], "code": sent["tracking_code"]})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    empty = anonymous.post("/p/certificates/download", data={"csrf_token": token, "number": "", "code": ""})
    assert empty.status_code == 422 and "请填写事项编号" in empty.get_data(as_text=True)
