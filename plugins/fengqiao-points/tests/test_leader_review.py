"""The community's secretary (built-in role ``leader``) does the first review of a points claim
(before, a claim proposed by the community's staff had to go to the street for it); nobody
reviews their own claim, and the first reviewer never takes the second review."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import submit_form, walk_case

from fengqiao_points.models import PointsClaim

pytestmark = pytest.mark.plugins("points")
LANYUE = "339901001001"


@pytest.fixture
def rule(make_rule):
    return make_rule(cap_points=100)


def _detail(client, headers, number):
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def _attempt(client, headers, number, action):
    version = _detail(client, headers, number)["version"]
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version},
                       headers=headers).status_code


def test_the_community_secretary_does_the_first_review(app, client, bearer, make_account, propose_on_page, rule):
    number = propose_on_page(make_account(), rule)  # 揽月社区 staff propose on the page

    secretary, street = bearer("gaojie"), bearer("luojia")
    assert "first_approve" not in _detail(client, bearer("shenli"), number)["allowed_actions"]  # not their own
    assert "first_approve" in _detail(client, secretary, number)["allowed_actions"]
    walk_case(client, number, [("first_approve", {"comment": "情况属实"})], secretary)
    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim))
        assert claim.first_reviewer == "gaojie" and claim.state == "second_review"
    assert _attempt(client, secretary, number, "second_approve") == 403  # the street reviews second
    walk_case(client, number, [("second_approve", {"comment": "同意公示"})], street)
    assert _detail(client, street, number)["state"] == "notice"


def test_a_leader_never_reviews_their_own_claim_nor_twice(app, client, bearer, make_account, rule):
    account = make_account()
    street_leader = bearer("zhoujian")
    data = {"account": account["number"], "rule": rule, "description": "周六参加小区垃圾分类志愿服务两小时"}
    own = submit_form(client, "points-claim", data, headers=street_leader, org=LANYUE)["case_number"]
    assert "first_approve" not in _detail(client, street_leader, own)["allowed_actions"]
    assert _attempt(client, street_leader, own, "first_approve") == 403

    number = submit_form(client, "points-claim", data, headers=bearer("zhangmin"), org=LANYUE)["case_number"]
    walk_case(client, number, [("first_approve", {})], street_leader)  # a street leader may review first …
    assert "second_approve" not in _detail(client, street_leader, number)["allowed_actions"]
    assert _attempt(client, street_leader, number, "second_approve") == 403  # … but not again
    walk_case(client, number, [("second_approve", {})], bearer("luojia"))
    assert _detail(client, street_leader, number)["state"] == "notice"


def test_a_secretary_filing_a_claim_is_told_why_it_is_refused(app, client, bearer, make_account, rule):
    """Black-box finding: the community secretary (who reviews, not proposes) filing a claim for
    an account of her own community got 「积分账户不存在或已停用」 — false; the reason is her role."""
    secretary = bearer("gaojie")
    data = {"account": make_account()["number"], "rule": rule, "description": "参加小区垃圾分类志愿服务"}
    number = submit_form(client, "points-claim", data, headers=secretary, org=LANYUE)["case_number"]
    detail = _detail(client, secretary, number)
    assert detail["state"] == "rejected"
    reasons = " ".join(h.get("comment") or "" for h in detail["history"])
    assert "没有申报积分的权限" in reasons and "不存在" not in reasons
