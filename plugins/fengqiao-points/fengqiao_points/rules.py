"""Rules: versioned per jurisdiction, with caps per period.

A rule applies to accounts in its unit's subtree (a county rule reaches every village). Caps
count the points a rule brought one account in the current local month or year, across
all versions of the rule (``key``), credited plus — when proposing — still pending.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.workdays import LOCAL_TZ, today_local

from fengqiao_points.models import PointsAccount, PointsClaim, PointsLedger, PointsRule

PERIOD_LABELS = {"month": "每月", "year": "每年"}
OPEN_CLAIM_STATES = ("proposed", "second_review", "notice", "objected")


def period_start(period: str) -> datetime:
    today = today_local()
    return datetime(today.year, today.month if period == "month" else 1, 1, tzinfo=LOCAL_TZ)


def rules_for(account: PointsAccount) -> list[PointsRule]:
    """Active rules whose unit contains the account's unit (its own, its street's, county's)."""
    rules = db.scalars(sa.select(PointsRule).where(PointsRule.active).order_by(PointsRule.name))
    return [r for r in rules if account.org_path.startswith(r.org_path)]


def applies(rule: PointsRule | None, account: PointsAccount) -> bool:
    return rule is not None and rule.active and account.org_path.startswith(rule.org_path)


def cap_problem(rule: PointsRule, account_id: int, points: int, *, pending: bool,
                exclude_claim: str | None = None) -> str | None:
    """A Chinese message when ``points`` more would exceed the rule's cap, else None."""
    if not rule.cap_points or not rule.cap_period or points <= 0:
        return None
    start = period_start(rule.cap_period)
    versions = sa.select(PointsRule.id).where(PointsRule.key == rule.key)
    credited = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsLedger.points), 0)).where(
        PointsLedger.account_id == account_id, PointsLedger.kind == "claim",
        PointsLedger.rule_id.in_(versions), PointsLedger.created_at >= start,
    )) or 0
    waiting = 0
    if pending:
        waiting = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsClaim.points), 0)).where(
            PointsClaim.account_id == account_id, PointsClaim.rule_id.in_(versions),
            PointsClaim.state.in_(OPEN_CLAIM_STATES), PointsClaim.created_at >= start,
            PointsClaim.case_number != (exclude_claim or ""),
        )) or 0
    if credited + waiting + points <= rule.cap_points:
        return None
    label = PERIOD_LABELS.get(rule.cap_period, "")
    left = max(rule.cap_points - credited - waiting, 0)
    return (f"超过规则「{rule.name}」{label}上限 {rule.cap_points} 分：本期已入账 {credited} 分"
            + (f"、待审核 {waiting} 分" if waiting else "") + f"，最多还能申报 {left} 分")
