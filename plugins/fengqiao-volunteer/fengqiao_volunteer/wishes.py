"""微心愿 on the case engine: residents post through the public form ``volunteer-wish``
(case type ``micro_wish``); a volunteer or party member claims one, staff record it fulfilled,
and the resident confirms with the 查询码. Queues, deadlines and history are the engine's."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.cases import case_summaries, perform_action, tracking_matches
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import Scope
from fengqiao.sdk.web import Page
from sqlalchemy.exc import IntegrityError

from fengqiao_volunteer.models import Volunteer, WishClaim

CASE_TYPE = "micro_wish"
FORM_KEY = "volunteer-wish"
PAGE_SIZE = 30


def wishes_in(scope: Scope, state: str | None = None, cursor: str | None = None) -> Page:
    """A page of 微心愿 cases in ``scope`` (the core's scoping of cases), newest first, as plain
    ``CaseSummary`` rows; ``cursor`` as ``paginate`` takes it (``""``: the first page)."""
    return case_summaries(scope, case_type=CASE_TYPE, state=state, limit=PAGE_SIZE, cursor=cursor)


def claim(case_number: str, volunteer: Volunteer, actor: str | None) -> None:
    """Record that ``volunteer`` takes on the wish (as staff ``actor``, or the volunteer
    themself through their record page when ``actor`` is None)."""
    perform_action(case_number, "claim_wish", actor=actor, fields={"volunteer": volunteer.id},
                   comment=f"志愿者 ZYZ{volunteer.id:06d} 认领")
    existing = db.scalar(sa.select(WishClaim).where(WishClaim.case_number == case_number))
    if existing is not None:  # claimed again after being released
        existing.volunteer_id = volunteer.id
    else:
        db.add(WishClaim(case_number=case_number, volunteer_id=volunteer.id))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise APIError(409, [("", "已被他人认领", "claimed")]) from None


def claims_by(volunteer_id: int) -> list[str]:
    return list(db.scalars(sa.select(WishClaim.case_number).where(WishClaim.volunteer_id == volunteer_id)
                           .order_by(WishClaim.id.desc()).limit(50)))


def confirm_by_resident(case_number: str, code: str) -> dict:
    """The resident confirms the wish came true (number + 查询码, no account)."""
    if not tracking_matches(case_number, code):
        raise APIError(404, [("/code", "事项编号或查询码不正确", "not_found")])
    return perform_action(case_number, "confirm", comment="居民确认心愿已实现")
