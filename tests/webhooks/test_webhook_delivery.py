"""Signed webhooks end to end (issue 21 part 5): events of a case of 揽月社区 reach an
endpoint of its street (澄湖街道) signed, masked unless granted, and never an endpoint of
another street; retries on 5xx; nothing for a change that rolled back; plugin events."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from webhook_kit import make_endpoint, settle

from fengqiao.db import db, utcnow
from fengqiao.models import AuditEntry, Delivery, ExternalOrder, WebhookEndpoint
from fengqiao.testing.plugin import submit_form, walk_case

MOBILE = "13812345678"
REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": f"5幢门口路灯坏了一周，电话 {MOBILE}。",
           "caller_name": "陈德福", "caller_mobile": MOBILE}
COMMUNITY, STREET, OTHER_STREET, COUNTY = "339901001001", "339901001", "339901100", "339901"
CORE = ["case.created", "case.changed", "case.closed", "submission.received"]


def _rows(app, endpoint_id: int) -> list[Delivery]:
    with app.app_context():
        rows = list(db.scalars(sa.select(Delivery).where(Delivery.target == f"endpoint:{endpoint_id}")
                               .order_by(Delivery.id)))
        db.expunge_all()
        return rows


def _closed_case(client, bearer) -> str:
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    walk_case(client, number, [("answer", {"comment": "已联系物业维修"})], bearer("shenli"))
    return number


def test_a_case_reaches_its_streets_endpoint_signed_and_not_another_streets(app, client, bearer, receiver):
    street = make_endpoint(app, receiver, "/street", STREET, CORE)
    other = make_endpoint(app, receiver, "/other", OTHER_STREET, CORE)
    number = _closed_case(client, bearer)
    settle(app)

    got = receiver.at("/street")
    assert got and all(r.verified for r in got), [r.problem for r in got]
    assert sorted(receiver.events("/street")) == sorted(["submission.received", "case.created", "case.changed",
                                                         "case.closed"])
    assert receiver.at("/other") == [] and _rows(app, other) == []
    ids = [r.json["id"] for r in got]
    assert len(set(ids)) == len(ids)  # one id per event
    for r in got:
        assert r.headers["X-Fengqiao-Delivery"] == r.json["id"] and r.headers["X-Fengqiao-Event"] == r.json["type"]
        assert r.headers["Content-Type"].startswith("application/json")
    closed = next(r.json for r in got if r.json["type"] == "case.closed")
    case = closed["data"]["case"]
    assert case["number"] == number and case["closed"] is True and case["state_title"]
    assert case["org"] == {"code": COMMUNITY, "name": "揽月社区"} and "sla_status" in case and case["updated_at"]
    submitted = next(r.json for r in got if r.json["type"] == "submission.received")["data"]["submission"]
    assert submitted["form_key"] == "livelihood-request" and submitted["data"]["caller_name"] == "陈**"
    changed = next(r.json for r in got if r.json["type"] == "case.changed")
    assert changed["data"]["change"]["action"] == "answer" and changed["data"]["change"]["to_state_title"]
    rows = _rows(app, street)
    assert {r.status for r in rows} == {"sent"} and all(r.response_code == 200 for r in rows)
    assert all(r.org_id is not None and r.channel == "webhook" for r in rows)


def test_personal_data_is_masked_unless_the_endpoint_is_granted(app, client, bearer, receiver):
    make_endpoint(app, receiver, "/masked", STREET, ["case.created"])
    granted = make_endpoint(app, receiver, "/granted", COUNTY, ["case.created"], personal=True)
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)

    masked = receiver.at("/masked")[0].json["data"]["case"]["data"]
    full = receiver.at("/granted")[0].json["data"]["case"]["data"]
    assert masked["caller_name"] == "陈**" and masked["caller_mobile"] == "138****5678"
    assert MOBILE not in receiver.at("/masked")[0].body.decode() and "陈德福" not in receiver.at("/masked")[0].body.decode()
    assert full["caller_name"] == "陈德福" and full["caller_mobile"] == MOBILE and MOBILE in full["content"]
    with app.app_context():  # the grant is on the audit log, with no personal value
        grants = list(db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "webhook.personal_grant")))
        assert [g.record for g in grants] == [f"webhook:{granted}"]


def test_fields_hidden_from_the_handling_unit_are_withheld_even_when_granted(app, client, demo, receiver):
    make_endpoint(app, receiver, "/granted", COUNTY, ["case.created"], personal=True)
    submit_form(client, "livelihood-request", {**REQUEST, "request_type": "report"}, org=COMMUNITY)  # 举报
    settle(app)
    data = receiver.at("/granted")[0].json["data"]["case"]["data"]
    assert data["caller_name"] == "******" and data["caller_mobile"] == "******" and data["request_type"] == "report"
    assert "陈德福" not in receiver.at("/granted")[0].body.decode()


def test_a_5xx_is_retried_with_backoff_then_delivered_with_the_same_event_id(app, client, bearer, receiver):
    endpoint = make_endpoint(app, receiver, "/flaky", STREET, ["case.created"])
    receiver.plan("/flaky", (500, "数据库维护中"), (503, "仍在维护"))
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    settle(app)
    [row] = _rows(app, endpoint)
    assert (row.status, row.attempts, row.response_code) == ("pending", 1, 500)
    assert "数据库维护中" in row.response_excerpt and "500" in row.last_error
    assert timedelta(seconds=25) < row.next_attempt_at - utcnow() <= timedelta(seconds=30)

    from fengqiao.notifications.sending import send

    for expected in ((503, "pending", 2), (200, "sent", 3)):
        with app.test_request_context():
            db.execute(sa.update(Delivery).where(Delivery.id == row.id).values(next_attempt_at=utcnow()))
            send(row.id)
            db.commit()
        [row] = _rows(app, endpoint)
        assert (row.response_code, row.status, row.attempts) == expected
    got = receiver.at("/flaky")
    assert len(got) == 3 and len({r.json["id"] for r in got}) == 1  # one event, three attempts
    assert [r.verified for r in got] == [True, False, False]  # the receiver's seen-set refuses repeats
    assert all("already" in r.problem for r in got[1:]) and got[0].json["data"]["case"]["number"] == number


def test_4xx_is_final_and_410_deactivates_the_endpoint(app, client, bearer, receiver):
    bad = make_endpoint(app, receiver, "/bad", STREET, ["case.created"])
    gone = make_endpoint(app, receiver, "/gone", STREET, ["case.created"])
    receiver.plan("/bad", (400, "bad request"))
    receiver.plan("/gone", (410, "gone"))
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)
    assert [(r.status, r.response_code) for r in _rows(app, bad)] == [("dead", 400)]
    assert [(r.status, r.response_code) for r in _rows(app, gone)] == [("dead", 410)]
    with app.app_context():
        assert db.get(WebhookEndpoint, gone).active is False and db.get(WebhookEndpoint, bad).active is True
        assert db.scalar(sa.select(AuditEntry.record).where(AuditEntry.action == "webhook.deactivate")) == \
            f"webhook:{gone}"
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)
    assert len(_rows(app, gone)) == 1 and len(_rows(app, bad)) == 2  # a deactivated endpoint gets nothing new


def test_the_external_order_rides_along(app, client, bearer, receiver):
    make_endpoint(app, receiver, "/ext", STREET, ["case.closed"])
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    settle(app)
    with app.app_context():
        from fengqiao.models import Case

        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))
        db.add(ExternalOrder(source="12345", number="GD2026000123", case_id=case_id))
        db.commit()
    walk_case(client, number, [("answer", {"comment": "已处理"})], bearer("shenli"))
    settle(app)
    [closed] = receiver.at("/ext")
    assert closed.verified and closed.json["data"]["external_order"] == {"source": "12345", "number": "GD2026000123"}


def test_nothing_is_sent_for_a_change_that_rolled_back_and_plugin_events_are_relayed(app, demo, receiver):
    from fengqiao.sdk.events import plugin_signal, send_signal

    make_endpoint(app, receiver, "/plugins", STREET, ["plugin.*"])
    make_endpoint(app, receiver, "/core-only", STREET, ["case.created"])
    signal = plugin_signal("demo.thing_done")
    with app.test_request_context():
        db.execute(sa.select(1))  # a transaction is open
        send_signal(signal, org=COMMUNITY, name="陈德福", note=f"回电 {MOBILE}")
        db.rollback()
    settle(app)
    assert receiver.received == []
    with app.test_request_context():
        db.execute(sa.select(1))
        send_signal(signal, org=COMMUNITY, name="陈德福", note=f"回电 {MOBILE}", count=3)
        db.commit()
    settle(app)
    [got] = receiver.at("/plugins")
    assert got.verified and got.json["type"] == "plugin.demo.thing_done"
    data = got.json["data"]
    assert data["plugin"] == "demo" and data["org"]["code"] == COMMUNITY
    assert data["values"] == {"org": COMMUNITY, "name": "陈**", "note": "回电 138****5678", "count": 3}
    assert receiver.at("/core-only") == []


def test_the_address_guard_is_checked_again_at_send_time(app, client, demo, receiver):
    endpoint = make_endpoint(app, receiver, "/moved", STREET, ["case.created"])
    with app.app_context():  # saved while allowed; now pointing into the intranet (DNS changed, say)
        db.execute(sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint)
                   .values(url="http://10.1.2.3:8080/hook"))
        db.commit()
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)
    [row] = _rows(app, endpoint)
    assert row.status == "dead" and "内网或本机地址" in row.last_error and row.response_code is None
