"""Claims (积分申报) as ``points_claim`` cases: the case engine runs review, history and SLA;
this module keeps the points facts beside each case, opens and ends the 公示, records
objections and credits the ledger exactly once.

Crediting happens in one transaction: ledger entry (unique ``ref`` = ``claim:<number>``)
and the system transition ``credit`` commit together, so a claim credited twice, or one
objected to while being credited, is impossible.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fengqiao.sdk.cases import case_data, perform_action
from fengqiao.sdk.channels import notify
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import scope_for
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.web import current_user
from fengqiao.sdk.workdays import add_working_days
from sqlalchemy.exc import IntegrityError

from fengqiao_points import ledger
from fengqiao_points.models import PointsAccount, PointsClaim, PointsObjection, PointsRule
from fengqiao_points.rules import applies, cap_problem

log = logging.getLogger(__name__)

FORM_KEY = "points-claim"
STATE_LABELS = {"proposed": "待初审", "second_review": "待复审", "notice": "公示中",
                "objected": "有异议·待复核", "credited": "已入账", "rejected": "未通过"}


def may_propose_for(account: PointsAccount, user=None) -> bool:
    """Within the proposer's units, or the community/village around their grid (a grid
    worker proposes for the households of their community)."""
    scope = scope_for(current_user if user is None else user, "points.propose")
    return scope.contains(account.org_path) or any(p.startswith(account.org_path) for p in scope.paths)


def proposal_problem(account: PointsAccount | None, rule: PointsRule | None, *,
                     has_evidence: bool = False) -> str | None:
    """Why a claim for ``account`` under ``rule`` cannot be made (Chinese), or None."""
    if account is None or not account.active:
        return "积分账户不存在或已停用"
    if not applies(rule, account):
        return "该积分规则不存在、已停用或不适用于该账户所在地区"
    if rule.evidence_required and not has_evidence:
        return f"规则「{rule.name}」需要佐证照片，请通过“积分申报”表单上传照片后提交"
    return cap_problem(rule, account.id, rule.points, pending=True)


def on_submission(sender, **kwargs) -> None:
    """``submission_received``: keep the claim's facts; refuse at once (as the system) a
    claim whose account or rule is unknown or that would exceed the rule's cap."""
    if kwargs.get("form_key") != FORM_KEY:
        return
    number = kwargs["case_number"]
    if db.scalar(sa.select(PointsClaim.id).where(PointsClaim.case_number == number)):
        return
    data = case_data(number) or {}
    account = db.scalar(sa.select(PointsAccount).where(PointsAccount.number == str(data.get("account", ""))))
    signed_in = getattr(current_user, "is_authenticated", False)
    no_right = signed_in and not scope_for(current_user, "points.propose").paths
    if account is not None and signed_in and not may_propose_for(account):
        account = None  # staff filing through the core form for another unit's household: as if unknown
    rule = db.get(PointsRule, data["rule"]) if isinstance(data.get("rule"), int) else None
    problem = ("您没有申报积分的权限（由社区工作人员或网格员申报，书记负责初审）" if no_right
               else proposal_problem(account, rule, has_evidence=bool(data.get("photos"))))
    db.add(PointsClaim(case_number=number, account_id=account.id if account else None,
                       rule_id=rule.id if rule else None, points=rule.points if rule else 0,
                       state="proposed", proposer=current_user.username if signed_in else None))
    try:
        db.commit()
    except IntegrityError:  # a repeated signal stored it first
        db.rollback()
        return
    if problem:
        perform_action(number, "reject", comment=problem, fields={"reply": problem})
        db.commit()  # a receiver runs after the request's commit: it commits its own work


def on_transition(sender, **kwargs) -> None:
    """``case_transitioned``: mirror the state; entering 公示 starts the notice period.

    Four eyes (the proposer does not review, the first reviewer does not review again) is the
    workflow's ``four_eyes`` guard on both review steps: the engine never offers them."""
    claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == kwargs.get("case_number")))
    if claim is None:
        return
    to_state = kwargs.get("to_state")
    if kwargs.get("action") == "first_approve":
        claim.first_reviewer = kwargs.get("actor")
    claim.state = to_state
    if to_state == "notice":
        account = db.get(PointsAccount, claim.account_id)
        now = utcnow()
        claim.notice_starts_at = now
        claim.notice_ends_at = add_working_days(now, int(plugin_settings("points")["notice_days"]),
                                                account.org_code if account else None)
    elif to_state != "credited":
        claim.notice_starts_at = claim.notice_ends_at = None
    if to_state in DECIDED:
        _tell_proposer(claim, to_state, kwargs.get("actor"))
    db.commit()


DECIDED = {"notice": "审核通过，进入公示", "rejected": "未通过审核", "credited": "公示期满，已入账"}
DECIDED_KIND = "points.claim_decided"


def _tell_proposer(claim: PointsClaim, outcome: str, actor: str | None) -> None:
    """The staff account that proposed the claim hears of its outcome (queued in this
    transaction; once per claim and outcome). Households have no account: nobody else."""
    if not claim.proposer or claim.proposer == actor:
        return
    rule = db.get(PointsRule, claim.rule_id) if claim.rule_id else None
    account = db.get(PointsAccount, claim.account_id) if claim.account_id else None
    what = f"（{rule.name}，{claim.points} 分）" if rule else ""
    notify(f"points:claim:{claim.case_number}:{outcome}", [claim.proposer], kind=DECIDED_KIND,
           title=f"积分申报{DECIDED[outcome]}：{claim.case_number}",
           text=f"您提交的积分申报 {claim.case_number}{what}{DECIDED[outcome]}",
           link=f"/cases/{claim.case_number}", org=account.org_code if account else None)


def object_to(case_number: str, reason: str) -> None:
    """Anyone's objection during 公示: recorded, and the claim goes back to review.
    409 ``notice_over`` when the claim is not (or no longer) in its notice period."""
    claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == case_number))
    if claim is None:
        raise APIError(404, [("", "公示事项不存在", "not_found")])
    if claim.state != "notice":
        raise APIError(409, [("", "该事项不在公示期内，不能提出异议", "notice_over")])
    db.add(PointsObjection(claim_id=claim.id, reason=reason))
    try:
        perform_action(case_number, "object", comment=f"公示期收到异议：{reason}")  # the request commits both
    except APIError:
        db.rollback()
        raise APIError(409, [("", "该事项不在公示期内，不能提出异议", "notice_over")]) from None


def credit(claim_id: int) -> bool:
    """Credit one claim whose notice has ended: True when it was credited now. Running it
    again (or concurrently) does nothing: the entry's ``ref`` is unique and the ``credit``
    transition leaves only from ``notice``."""
    claim = db.get(PointsClaim, claim_id)
    if claim is None or claim.state != "notice" or claim.notice_ends_at is None or claim.notice_ends_at > utcnow():
        db.rollback()
        return False
    number, account_id, points = claim.case_number, claim.account_id, claim.points
    rule = db.get(PointsRule, claim.rule_id)
    problem = cap_problem(rule, account_id, points, pending=False)
    if problem:
        db.rollback()
        try:
            perform_action(number, "reject", comment=problem, fields={"reply": problem})
            db.commit()  # one claim at a time: a later claim's failure must not undo this one
        except APIError:
            db.rollback()
        return False
    try:
        write_lock()
        if points < 0:  # a deduction takes what is there, never more
            balance = db.scalar(sa.select(PointsAccount.balance).where(PointsAccount.id == account_id)) or 0
            points = max(points, -balance)
        ledger.post(account_id, points, kind="claim", reason=f"{rule.name}（{number}）", ref=f"claim:{number}",
                    claim_number=number, rule_id=rule.id)
        perform_action(number, "credit", comment=f"公示期满无异议，{'入账' if points >= 0 else '扣减'} {abs(points)} 分")
        db.commit()  # one claim at a time: a later claim's failure must not undo this one
    except (IntegrityError, APIError) as err:
        db.rollback()
        log.info("claim %s not credited: %s", number, err)
        return False
    return True


def end_notices() -> int:
    """Periodic job: credit every claim whose 公示 has ended without objection."""
    ids = list(db.scalars(sa.select(PointsClaim.id).where(
        PointsClaim.state == "notice", PointsClaim.notice_ends_at <= utcnow()).order_by(PointsClaim.id)))
    db.rollback()
    return sum(credit(claim_id) for claim_id in ids)
