"""Orders pushed by the 12345 platform (issue 21 part 6): ``POST /api/v1/inbound/orders`` opens
one 民生诉求 case per (source, order number) through the normal submission path, and
``GET /api/v1/inbound/orders/<source>/<number>`` answers its status to the platform."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fengqiao.accounts.service import create_user
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.models import Case, CaseEvent, Submission
from fengqiao.models.delivery import ExternalOrder
from fengqiao.testing.plugin import api_token, walk_case

URL = "/api/v1/inbound/orders"
COMMUNITY_A, STREET_SHIXI_VILLAGE = "339901001001", "339901100201"


def _ago(**delta) -> str:
    return (utcnow() - timedelta(**delta)).astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def order(number: str = "GD-2612-000101", **changes) -> dict:
    body = {"source": "12345", "order_number": number, "received_at": _ago(hours=2),
            "request_type": "complaint", "urgency": "normal", "summary": "湖滨路烧烤店夜间油烟扰民",
            "content": "每晚十点后油烟和噪音很大，来电人 13800138000。", "caller_name": "陈德福",
            "caller_mobile": "13800138000", "address": "湖滨路18号", "org": COMMUNITY_A}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _account(app, username: str, org: str, role: str = "integration") -> None:
    with app.app_context():
        create_user(username, DEMO_PASSWORD, role, org, "12345 平台对接")
        db.commit()


@pytest.fixture
def centre(app, demo, client):
    """The county 12345 centre's integration account (a dispatch centre: the whole county)."""
    _account(app, "rx12345", "339901901")
    return {"Authorization": f"Bearer {api_token(client, 'rx12345')}"}


def _count(app, model) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_order_opens_one_case_through_the_form_and_a_repeat_returns_it(app, client, centre, bearer):
    first = client.post(URL, json=order(reply_by=_ago(hours=-48)), headers=centre)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["created"] is True and body["source"] == "12345" and body["order_number"] == "GD-2612-000101"
    assert body["state"] == "received" and body["state_title"] == "待受理" and body["org"] == COMMUNITY_A
    number = body["case_number"]
    assert number.startswith("GD") and body["tracking_code"]

    again = client.post(URL, json=order(summary="内容不同也按工单号返回"), headers=centre)
    assert again.status_code == 200
    assert again.get_json() == {**body, "created": False}
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        assert case.type == "livelihood_request" and case.form_key == "livelihood-request"
        assert case.data["external_number"] == "GD-2612-000101" and case.data["caller_mobile"] == "13800138000"
        assert case.deadline is not None  # the SLA of the case type, from received_at (trusted: 12345)
        assert case.sla_start < case.created_at - timedelta(hours=1)
        submission = db.scalar(sa.select(Submission).where(Submission.case_id == case.id))
        assert submission.channel == "inbound"
        rows = db.execute(sa.select(ExternalOrder.source, ExternalOrder.number, ExternalOrder.case_id)).all()
        assert rows == [("12345", "GD-2612-000101", case.id)]
        recorded = db.scalar(sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "inbound"))
        assert recorded.internal and recorded.changes["reply_by"]
    assert _count(app, Case) == 1

    detail = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert [h["action"] for h in detail["history"]] == ["submit", "inbound"]
    assert detail["data"]["caller_mobile"] == "******"  # a complaint: hidden from the community, as on the form
    assert "13800138000" not in str(detail)


@pytest.mark.parametrize(("changes", "pointer", "code"), [
    ({"order_number": "工单一"}, "/order_number", "pattern"),
    ({"request_type": "praise"}, "/request_type", None),
    ({"caller_mobile": "12345"}, "/caller_mobile", None),
    ({"summary": ""}, "/summary", None),
    ({"received_at": "昨天"}, "/received_at", None),
    ({"received_at": _ago(hours=-3)}, "/received_at", "future"),
    ({"reply_by": _ago(hours=5)}, "/reply_by", "reply_by_order"),
    ({"org": "999999"}, "/org", "unknown_org"),
    ({"source": "110"}, "/source", None),
    ({"caller_name": None}, "", None),
    ({"extra": "x"}, "", None),
])
def test_bad_fields_are_422_with_a_chinese_message_each(app, client, centre, changes, pointer, code):
    response = client.post(URL, json=order(**changes), headers=centre)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert any(e["pointer"].startswith(pointer) for e in errors), errors
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in errors)
    if code:
        assert code in {e["code"] for e in errors}
    assert _count(app, Case) == 0 and _count(app, ExternalOrder) == 0


def test_not_json_and_broken_json(client, centre):
    assert client.post(URL, data="x", headers=centre).status_code == 415
    broken = client.post(URL, data="{", headers={**centre, "Content-Type": "application/json"})
    assert broken.status_code == 400


def test_only_integration_accounts_may_push_or_pull(app, client, centre, bearer):
    assert client.post(URL, json=order()).status_code == 401
    assert client.get(f"{URL}/12345/GD-2612-000101").status_code == 401
    for staff in ("shenli", "ducha", "admin"):
        headers = bearer(staff)
        assert client.post(URL, json=order(), headers=headers).status_code == 403
        assert client.get(f"{URL}/12345/GD-2612-000101", headers=headers).status_code == 403
    assert _count(app, Case) == 0


def test_an_account_sends_only_within_its_units(app, client, centre):
    _account(app, "rx_chenghu", "339901001")  # an integration account of 澄湖街道 only
    street = {"Authorization": f"Bearer {api_token(client, 'rx_chenghu')}"}
    outside = client.post(URL, json=order("GD-2612-000102", org=STREET_SHIXI_VILLAGE), headers=street)
    assert outside.status_code == 422
    assert outside.get_json()["errors"][0] == {
        "pointer": "/org", "code": "out_of_jurisdiction",
        "message": "无权向石溪村派送工单：只能派往本账户所属单位辖区内的单位"}
    assert client.post(URL, json=order("GD-2612-000103"), headers=street).status_code == 201

    # The county centre's order in 石溪村: the street's account neither sees nor takes it.
    assert client.post(URL, json=order("GD-2612-000104", org=STREET_SHIXI_VILLAGE), headers=centre).status_code == 201
    assert client.get(f"{URL}/12345/GD-2612-000104", headers=street).status_code == 404
    taken = client.post(URL, json=order("GD-2612-000104"), headers=street)
    assert taken.status_code == 409 and taken.get_json()["errors"][0]["code"] == "order_taken"
    assert client.get(f"{URL}/12345/GD-2612-000103", headers=centre).status_code == 200  # the county sees all
    assert _count(app, Case) == 2


def test_the_status_pull_shows_state_public_steps_reply_and_closure(app, client, centre, bearer):
    number = client.post(URL, json=order(), headers=centre).get_json()["case_number"]
    url = f"{URL}/12345/GD-2612-000101"
    pulled = client.get(url, headers=centre).get_json()
    assert pulled["state"] == "received" and pulled["closed"] is False and pulled["closed_at"] is None
    assert pulled["reply"] is None and pulled["case_number"] == number and pulled["reply_by"] is None

    staff = bearer("shenli")
    assert client.post(f"/api/v1/cases/{number}/actions/comment", headers=staff,
                       json={"comment": "内部备注：请联系王主任 13912345678"}).status_code == 200
    walk_case(client, number, [("answer", {"comment": "已约谈店主，油烟净化器本周安装，联系 13912345678"})], staff)
    pulled = client.get(url, headers=centre).get_json()
    assert pulled["state"] == "closed" and pulled["state_title"] == "已结单" and pulled["closed"] is True
    assert pulled["closed_at"] is not None
    assert pulled["reply"] == "已约谈店主，油烟净化器本周安装，联系 139****5678"
    assert [s["state_title"] for s in pulled["history"]] == ["待受理", "已结单"]
    text = str(pulled)
    assert "内部备注" not in text and "shenli" not in text and "13912345678" not in text
    assert client.get(f"{URL}/12345/NO-SUCH-1", headers=centre).status_code == 404


@pytest.mark.parametrize("locked", [True, False], ids=["advisory-lock", "unique-constraint"])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_same_order_pushed_twice_at_once_opens_one_case(app, demo, client, centre, monkeypatch, locked):
    """Two threads on PostgreSQL: the advisory lock orders them; without it the unique
    constraint does (the loser's savepoint rolls back and it answers the winner's case)."""
    from fengqiao.inbound import orders

    if not locked:  # and slow: both requests pass the look-up before either writes the order
        import time

        from fengqiao.forms import submit as submitting

        original = submitting.submit

        def slow_submit(*args, **kwargs):
            result = original(*args, **kwargs)
            time.sleep(0.5)
            return result

        monkeypatch.setattr(orders, "_lock", lambda source, number: None)
        monkeypatch.setattr(submitting, "submit", slow_submit)
    looked = []
    existing = orders._existing
    monkeypatch.setattr(orders, "_existing", lambda *a: looked.append(a) or existing(*a))
    barrier = threading.Barrier(2)
    results = []

    # Two tokens of the account (two connections of the platform): one token's own bookkeeping
    # row would otherwise order the two requests before they reach the order.
    tokens = [centre, {"Authorization": f"Bearer {api_token(client, 'rx12345')}"}]

    def post():
        local = demo.test_client()
        headers = tokens.pop()
        barrier.wait()
        response = local.post(URL, json=order("GD-2612-000199"), headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(status for status, _ in results) == [200, 201], results
    assert results[0][1]["case_number"] == results[1][1]["case_number"]
    assert _count(app, Case) == 1 and _count(app, ExternalOrder) == 1
    assert len(looked) == (4 if locked else 5)  # unlocked: the loser looked again after the IntegrityError
