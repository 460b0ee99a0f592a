"""A claim's outcome reaches the staff account that proposed it (issue 21: plugins' own events
through ``fengqiao.sdk.channels.notify``): approved into 公示, credited by the job, or
rejected — by a reviewer or at once by the system — each once, however often the job runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.models import Notification, User
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.testing import submit_form, walk_case

from fengqiao_points import claims
from fengqiao_points.models import PointsClaim

pytestmark = pytest.mark.plugins("points")
LANYUE = "339901001001"


def _propose(client, bearer, account: dict, rule: int, who: str = "zhangmin") -> str:
    data = {"account": account["number"], "rule": rule, "description": "周六参加小区垃圾分类志愿服务两小时"}
    return submit_form(client, "points-claim", data, headers=bearer(who), org=LANYUE)["case_number"]


def _inbox(app, number: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        return sorted(db.execute(
            sa.select(User.username, Notification.event_key, Notification.text)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == "points.claim_decided", Notification.event_key.contains(number))).all())


def test_the_proposer_hears_of_approval_and_crediting_once(app, client, bearer, make_account, make_rule):
    rule = make_rule(cap_points=50)
    number = _propose(client, bearer, make_account(), rule)
    with app.app_context():
        assert db.scalar(sa.select(PointsClaim.proposer).where(PointsClaim.case_number == number)) == "zhangmin"
    walk_case(client, number, [("first_approve", {"comment": "情况属实"})], bearer("shenli"))
    assert _inbox(app, number) == []  # a first review decides nothing yet
    walk_case(client, number, [("second_approve", {"comment": "同意公示"})], bearer("luojia"))
    rows = _inbox(app, number)
    assert [(u, k) for u, k, _t in rows] == [("zhangmin", f"points:claim:{number}:notice")]
    assert "审核通过，进入公示" in rows[0][2] and "参加志愿服务，10 分" in rows[0][2]

    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == number))
        claim.notice_ends_at = utcnow() - timedelta(minutes=1)
        db.commit()
    with app.test_request_context():
        assert claims.end_notices() == 1
        assert claims.end_notices() == 0  # the job again: nothing credited, nobody told twice
    assert [k for _u, k, _t in _inbox(app, number)] == [f"points:claim:{number}:credited",
                                                         f"points:claim:{number}:notice"]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Notification)
                         .where(Notification.kind == "points.claim_decided")) == 2


def test_a_rejection_by_a_reviewer_or_by_the_system_is_told(app, client, bearer, make_account, make_rule):
    rule = make_rule(cap_points=10)
    account = make_account()
    first = _propose(client, bearer, account, rule)
    walk_case(client, first, [("reject", {"comment": "材料不全", "fields": {"reply": "请补充照片"}})],
              bearer("shenli"))
    assert [k for _u, k, _t in _inbox(app, first)] == [f"points:claim:{first}:rejected"]
    second = _propose(client, bearer, account, rule)  # within the monthly cap of 10: pending, nothing told
    third = _propose(client, bearer, account, rule)  # over it: the system refuses it at once
    assert _inbox(app, second) == []
    rows = _inbox(app, third)
    assert [(u, k) for u, k, _t in rows] == [("zhangmin", f"points:claim:{third}:rejected")]
    assert "未通过审核" in rows[0][2]


def test_a_reservation_released_by_the_job_tells_whoever_reserved_it(app, client, bearer, staff, make_account,
                                                                     make_product):
    from fengqiao_points import redemptions
    from fengqiao_points.models import PointsRedemption

    account = make_account(balance=25, admin=bearer("admin"))
    product = make_product(name="洗衣液", points=10, stock=5)
    response = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product},
                           headers=staff)
    assert response.status_code == 201, response.get_data(as_text=True)
    rid = response.get_json()["id"]
    with app.app_context():
        db.get(PointsRedemption, rid).created_at = utcnow() - timedelta(days=30)
        db.commit()
    with app.test_request_context():
        assert redemptions.release_overdue() == 1
        assert redemptions.release_overdue() == 0  # run again: nothing released or told twice
    with app.app_context():
        rows = db.execute(sa.select(User.username, Notification.event_key, Notification.text)
                          .join(User, User.id == Notification.user_id)
                          .where(Notification.kind == "points.reservation_expired")).all()
    assert [(u, k) for u, k, _t in rows] == [("shenli", f"points:redemption:{rid}:expired")]
    assert "「洗衣液」×1" in rows[0][2] and "10 分已退回" in rows[0][2]


def test_the_kind_has_its_own_label_and_switch(app, client, bearer, make_account, make_rule):
    """``ctx.add_notification_kind``: the inbox says 积分申报结果, and a unit switching that kind
    off silences it without silencing other plugins' unlabelled kinds."""
    from fengqiao.models import OrgUnit, UnitNotificationSettings
    from fengqiao.notifications.fanout import kind_enabled
    from fengqiao.notifications.service import kind_label

    number = _propose(client, bearer, make_account(), make_rule(cap_points=10))
    walk_case(client, number, [("reject", {"comment": "材料不全", "fields": {"reply": "请补充照片"}})],
              bearer("shenli"))
    body = client.get("/api/v1/inbox?kind=points.claim_decided", headers=bearer("zhangmin")).get_json()
    assert [i["kind_label"] for i in body["items"]] == ["积分申报结果"]
    with app.app_context():
        assert kind_label("points.claim_decided") == "积分申报结果"
        unit = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == LANYUE))
        db.add(UnitNotificationSettings(org_id=unit, off_kinds=["points.claim_decided"]))
        db.commit()
        assert not kind_enabled("points.claim_decided", unit)
        assert kind_enabled("other.plugin_event", unit)
    second = _propose(client, bearer, make_account(), make_rule(cap_points=10))
    walk_case(client, second, [("reject", {"comment": "材料不全", "fields": {"reply": "请补充照片"}})],
              bearer("shenli"))
    assert _inbox(app, second) == []
