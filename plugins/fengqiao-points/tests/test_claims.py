"""Claims as ``points_claim`` cases: 社区初审 → 街道复审 → 公示 → credited once by the job;
an objection during 公示 sends it back to review and nothing is credited; caps refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.testing import submit_form, walk_case

from fengqiao_points import claims
from fengqiao_points.ledger import mismatches
from fengqiao_points.models import PointsAccount, PointsClaim, PointsLedger, PointsRule

pytestmark = pytest.mark.plugins("points")
LANYUE = "339901001001"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def rule(make_rule):
    return make_rule(cap_points=20)


def propose(client, bearer, account: dict, rule: int, who: str = "zhangmin") -> str:
    data = {"account": account["number"], "rule": rule, "description": "周六参加小区垃圾分类志愿服务两小时"}
    return submit_form(client, "points-claim", data, headers=bearer(who), org=LANYUE)["case_number"]


def to_notice(client, bearer, number: str) -> dict:
    walk_case(client, number, [("first_approve", {"comment": "情况属实"})], bearer("shenli"))
    return walk_case(client, number, [("second_approve", {"comment": "同意公示"})], bearer("luojia"))


def end_notice_now(app, number: str) -> None:
    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == number))
        claim.notice_ends_at = utcnow() - timedelta(minutes=1)
        db.commit()


def run_job(app) -> int:
    with app.test_request_context():
        return claims.end_notices()


def balance(app, account: dict) -> int:
    with app.app_context():
        return db.get(PointsAccount, account["id"]).balance


def entries(app, account: dict) -> list[tuple[str, int]]:
    with app.app_context():
        return [(e.kind, e.points) for e in db.scalars(
            sa.select(PointsLedger).where(PointsLedger.account_id == account["id"]).order_by(PointsLedger.id))]


def test_claim_passes_notice_and_is_credited_once(app, client, bearer, make_account, rule):
    account = make_account()
    number = propose(client, bearer, account, rule)
    case = to_notice(client, bearer, number)
    assert case["state"] == "notice"
    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == number))
        assert claim.state == "notice" and claim.notice_ends_at > utcnow() + timedelta(days=4)
    assert run_job(app) == 0  # notice still running
    assert balance(app, account) == 0

    end_notice_now(app, number)
    assert run_job(app) == 1
    assert run_job(app) == 0  # the job running twice credits once
    with app.app_context():
        assert claims.credit(db.scalar(sa.select(PointsClaim.id))) is False  # nor does a direct retry
    assert balance(app, account) == 10
    assert entries(app, account) == [("claim", 10)]
    detail = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert detail["state"] == "credited"
    assert detail["history"][-1]["action"] == "credit" and detail["history"][-1]["actor"] is None
    with app.app_context():
        assert mismatches() == []


def test_objection_during_notice_sends_it_back_and_nothing_is_credited(app, client, bearer, make_account, rule):
    account = make_account()
    number = propose(client, bearer, account, rule)
    to_notice(client, bearer, number)
    with app.test_request_context():
        claims.object_to(number, "该户当天不在家，未参加活动")
        db.commit()  # as the objection's request does when it answers
    end_notice_now(app, number)
    assert run_job(app) == 0
    assert balance(app, account) == 0 and entries(app, account) == []
    detail = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert detail["state"] == "objected"
    assert "该户当天不在家" in detail["history"][-1]["comment"]
    assert "first_approve" in [a["name"] if isinstance(a, dict) else a for a in detail["allowed_actions"]]
    # back through review and a fresh notice, then it credits
    case = to_notice(client, bearer, number)
    assert case["state"] == "notice"
    end_notice_now(app, number)
    assert run_job(app) == 1 and balance(app, account) == 10


@SQLITE_ONLY
def test_who_may_take_which_review(client, bearer, make_account, rule):
    account = make_account()
    number = propose(client, bearer, account, rule)

    def attempt(action: str, who: str) -> int:
        version = client.get(f"/api/v1/cases/{number}", headers=bearer("admin")).get_json()["version"]
        return client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version},
                           headers=bearer(who)).status_code

    assert attempt("first_approve", "zhangmin") in (403, 404, 409, 422)  # grid workers propose, never review (nor see it)
    walk_case(client, number, [("first_approve", {})], bearer("shenli"))
    assert attempt("second_approve", "shenli") in (403, 409, 422)  # second review: street or county
    for action in ("credit", "object", "recheck"):  # system transitions: no person may take them
        assert attempt(action, "admin") in (403, 409, 422)


@SQLITE_ONLY
def test_cap_per_month_refuses_the_claim_that_would_exceed_it(app, client, bearer, make_account, rule):
    account = make_account()
    first, second = propose(client, bearer, account, rule), propose(client, bearer, account, rule)
    third = propose(client, bearer, account, rule)  # 30 > 20 per month
    detail = client.get(f"/api/v1/cases/{third}", headers=bearer("shenli")).get_json()
    assert detail["state"] == "rejected"
    assert "每月上限 20 分" in detail["history"][-1]["comment"]
    for number in (first, second):
        assert client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["state"] == "proposed"


@SQLITE_ONLY
def test_unknown_account_is_refused_at_once(client, bearer, rule):
    number = propose(client, bearer, {"number": "99999999"}, rule)
    detail = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert detail["state"] == "rejected"
    assert "积分账户不存在" in detail["history"][-1]["comment"]


@SQLITE_ONLY
def test_four_eyes_the_proposer_and_the_first_reviewer_cannot_approve_again(app, client, bearer, make_account,
                                                                              propose_on_page, rule):
    number = propose_on_page(make_account(), rule)
    with app.app_context():
        assert db.scalar(sa.select(PointsClaim.proposer).where(PointsClaim.case_number == number)) == "shenli"
    def refused(username, action):
        detail = client.get(f"/api/v1/cases/{number}", headers=bearer(username)).get_json()
        assert action not in detail["allowed_actions"]
        answer = client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": detail["version"]},
                             headers=bearer(username))
        return answer.status_code == 403

    assert refused("shenli", "first_approve")  # the proposer does not review their own claim
    walk_case(client, number, [("first_approve", {})], bearer("luojia"))  # the street reviews it first
    assert refused("luojia", "second_approve")  # …and cannot review it again
    walk_case(client, number, [("second_approve", {})], bearer("ducha"))  # the county's supervisor
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["state"] == "notice"
    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim))
        assert claim.state == "notice" and claim.notice_ends_at is not None


def test_concurrent_crediting_credits_once(app, client, bearer, make_account, rule):
    import threading

    account = make_account()
    number = propose(client, bearer, account, rule)
    to_notice(client, bearer, number)
    end_notice_now(app, number)
    with app.app_context():
        claim_id = db.scalar(sa.select(PointsClaim.id))
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def one() -> None:
        with app.test_request_context():
            barrier.wait()
            results.append(claims.credit(claim_id))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False, False, False, True]
    assert balance(app, account) == 10 and entries(app, account) == [("claim", 10)]


def test_the_registered_job_runs_through_the_outbox(app, client, bearer, make_account, rule):
    """``points.end_notices`` as the platform runs it: enqueued, dispatched after commit to
    the in-process runner (no request context), twice — one credit."""
    import time

    from fengqiao.sdk.events import enqueue

    account = make_account()
    number = propose(client, bearer, account, rule)
    to_notice(client, bearer, number)
    end_notice_now(app, number)
    with app.app_context():
        enqueue("points.end_notices")
        enqueue("points.end_notices")
        db.commit()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and balance(app, account) == 0:
        time.sleep(0.1)
    time.sleep(0.5)
    assert balance(app, account) == 10 and entries(app, account) == [("claim", 10)]
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["state"] == "credited"


@SQLITE_ONLY
def test_a_deduction_takes_what_is_there_never_more(app, client, bearer, make_account, demo):
    with app.app_context():
        db.add(PointsRule(key="litter", version=1, org_code="339901", org_path="/339901/", name="乱扔垃圾",
                          points=-5, cap_points=None, cap_period=None, evidence_required=False,
                          proposers="staff", active=True, created_at=utcnow()))
        db.commit()
        litter = db.scalar(sa.select(PointsRule.id))
    account = make_account(balance=3, admin=bearer("admin"))
    number = propose(client, bearer, account, litter)
    to_notice(client, bearer, number)
    end_notice_now(app, number)
    assert run_job(app) == 1
    assert balance(app, account) == 0
    assert entries(app, account) == [("adjustment", 3), ("claim", -3)]
