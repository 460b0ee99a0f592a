"""Activities, first-come enrollment with a waiting list, and attendance (sign-in/out).

A place is taken by a conditional ``UPDATE … SET enrolled = enrolled + 1 WHERE enrolled <
quota`` after ``write_lock()``: on PostgreSQL the row lock makes concurrent updates re-check
the condition, on SQLite ``BEGIN IMMEDIATE`` queues the writers, so of two volunteers racing
for the last place exactly one gets it and the other is waiting-listed.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.channels import notify
from fengqiao.sdk.errors import APIError, ValidationFailed, not_found
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import Scope
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import validate
from fengqiao.sdk.workdays import LOCAL_TZ
from sqlalchemy.exc import IntegrityError

from fengqiao_volunteer.models import Activity, Enrollment, EnrollmentEvent, Volunteer
from fengqiao_volunteer.registry import clean, org_path_in
from fengqiao_volunteer.rules import ADULT_AGE, age_on, round_down_half, valid_id

ACTIVITY_SCHEMA = {
    "type": "object",
    "required": ["title", "org", "starts_at", "ends_at", "quota"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "title": "活动名称", "minLength": 1, "maxLength": 100},
        "org": {"type": "string", "title": "组织单位", "minLength": 1, "maxLength": 40},
        "place": {"type": ["string", "null"], "title": "地点", "maxLength": 200},
        "starts_at": {"type": "string", "title": "开始时间", "minLength": 1},
        "ends_at": {"type": "string", "title": "结束时间", "minLength": 1},
        "quota": {"type": "integer", "title": "招募人数", "minimum": 1, "maximum": 10000},
        "skills": {"type": ["string", "null"], "title": "所需技能", "maxLength": 200},
        "insurance": {"type": "boolean", "title": "已购保险"},
        "signup_deadline": {"type": ["string", "null"], "title": "报名截止"},
        "adults_only": {"type": "boolean", "title": "仅限成年人"},
    },
}

ORGANISER_CHANNELS = ("staff", "api")  # enrolment by the organiser (not the resident's phone)


def activity_day(activity: Activity) -> date:
    """The activity's first day, local (北京时间): sign-in opens then, not days before."""
    return activity.starts_at.astimezone(LOCAL_TZ).date()


STATUS_TITLES = {"enrolled": "已报名", "waiting": "候补", "cancelled": "已取消"}


def parse_time(value: str, pointer: str) -> datetime:
    """ISO date-time (``2026-12-05T09:00``, with or without offset; naive = 北京时间)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed([(pointer, "请输入有效的日期时间（如 2026-12-05T09:00）", "format")]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def create_activity(data: dict, *, scope: Scope | None, actor: str | None) -> Activity:
    """Publish an activity. Past dates are allowed (retrospective entry of earlier service)."""
    data = clean(data)
    validate(ACTIVITY_SCHEMA, data)
    path = org_path_in(data["org"], scope)
    starts = parse_time(data["starts_at"], "/starts_at")
    ends = parse_time(data["ends_at"], "/ends_at")
    if ends <= starts:
        raise ValidationFailed([("/ends_at", "结束时间应晚于开始时间", "range")])
    deadline = parse_time(data["signup_deadline"], "/signup_deadline") if data.get("signup_deadline") else None
    if deadline is not None and deadline > ends:
        raise ValidationFailed([("/signup_deadline", "报名截止时间不能晚于活动结束时间", "range")])
    activity = Activity(title=data["title"], org=data["org"], org_path=path, place=data.get("place"),
                        starts_at=starts, ends_at=ends, quota=data["quota"], enrolled=0, skills=data.get("skills"),
                        insurance=bool(data.get("insurance")), adults_only=bool(data.get("adults_only")),
                        signup_deadline=deadline,
                        status="published", created_by=actor)
    db.add(activity)
    db.commit()
    return activity


def get_activity(activity_id: int, scope: Scope | None = None) -> Activity:
    activity = db.get(Activity, activity_id) if valid_id(activity_id) else None
    if activity is None or (scope is not None and not scope.contains(activity.org_path)):
        raise not_found()
    return activity


def get_volunteer(volunteer_id, pointer: str = "/volunteer") -> Volunteer:
    if not isinstance(volunteer_id, int) or isinstance(volunteer_id, bool):
        raise ValidationFailed([(pointer, "请填写志愿者编号（整数）", "type")])
    volunteer = db.get(Volunteer, volunteer_id) if valid_id(volunteer_id) else None
    if volunteer is None:
        raise ValidationFailed([(pointer, "志愿者不存在", "enum")])
    return volunteer


def waiting_position(enrollment: Enrollment) -> int:
    """1 for the next in line; the queue is ordered by when each (re-)enrolled."""
    earlier = sa.or_(Enrollment.created_at < enrollment.created_at,
                     sa.and_(Enrollment.created_at == enrollment.created_at, Enrollment.id <= enrollment.id))
    return db.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.activity_id == enrollment.activity_id, Enrollment.status == "waiting", earlier)) or 0


def _take_place(activity_id: int) -> bool:
    result = db.execute(sa.update(Activity)
                        .where(Activity.id == activity_id, Activity.enrolled < Activity.quota)
                        .values(enrolled=Activity.enrolled + 1))
    return result.rowcount == 1


def _event(enrollment: Enrollment, action: str, actor: str | None, channel: str) -> None:
    db.flush()
    db.add(EnrollmentEvent(enrollment_id=enrollment.id, action=action, actor=actor, channel=channel, at=utcnow()))


def enroll(activity_id: int, volunteer_id: int, *, channel: str = "staff", scope: Scope | None = None,
           actor: str | None = None) -> Enrollment:
    """First come, first served; when full the volunteer joins the waiting list."""
    write_lock()
    try:
        return _enroll(activity_id, volunteer_id, channel, scope, actor)
    except APIError:
        db.rollback()  # release the write lock taken above
        raise


def _enroll(activity_id: int, volunteer_id: int, channel: str, scope: Scope | None, actor: str | None) -> Enrollment:
    activity = get_activity(activity_id, scope)
    volunteer = get_volunteer(volunteer_id)
    now = utcnow()
    if activity.status != "published":
        raise APIError(422, [("", "活动未发布或已取消", "closed")])
    closed = activity.ends_at <= now or (activity.signup_deadline and activity.signup_deadline < now)
    # Residents' enrolment closes; the organiser's does not: they record who served in an
    # activity already held (补录, kept in the enrolment's history).
    backfill = bool(closed) and actor is not None and channel in ORGANISER_CHANNELS and activity.starts_at <= now
    if closed and not backfill:
        raise APIError(422, [("", "报名已截止", "closed")])
    if activity.adults_only and age_on(
            volunteer.id_card, activity.starts_at.astimezone(LOCAL_TZ).date()) < ADULT_AGE:
        raise APIError(422, [("/volunteer", "该活动仅限成年志愿者参加", "age")])
    existing = db.scalar(sa.select(Enrollment).where(Enrollment.activity_id == activity.id,
                                                     Enrollment.volunteer_id == volunteer.id))
    if existing is not None and existing.status != "cancelled":
        raise APIError(409, [("/volunteer", "该志愿者已报名此活动", "duplicate")])
    status = "enrolled" if _take_place(activity.id) else "waiting"
    if existing is not None:
        existing.status, existing.channel, existing.created_at = status, channel, now
        enrollment = existing
    else:
        enrollment = Enrollment(activity_id=activity.id, volunteer_id=volunteer.id, status=status,
                                channel=channel, created_at=now)
        db.add(enrollment)
    _event(enrollment, status, actor, channel)
    if backfill:
        _event(enrollment, "backfilled", actor, channel)
    try:
        db.commit()
    except IntegrityError:  # the same volunteer enrolled twice at once
        db.rollback()
        raise APIError(409, [("/volunteer", "该志愿者已报名此活动", "duplicate")]) from None
    return enrollment


def cancel(enrollment_id: int, scope: Scope | None = None, actor: str | None = None) -> Enrollment:
    """Withdraw an enrollment; a freed place goes to the first on the waiting list."""
    write_lock()
    try:
        return _cancel(enrollment_id, scope, actor)
    except APIError:
        db.rollback()
        raise


def _cancel(enrollment_id: int, scope: Scope | None, actor: str | None) -> Enrollment:
    enrollment = db.get(Enrollment, enrollment_id) if valid_id(enrollment_id) else None
    if enrollment is None:
        raise APIError(404)
    get_activity(enrollment.activity_id, scope)
    if enrollment.status == "cancelled":
        db.rollback()
        return enrollment
    was_enrolled = enrollment.status == "enrolled"
    enrollment.status = "cancelled"
    _event(enrollment, "cancelled", actor, "staff" if actor else "system")
    if was_enrolled:
        db.execute(sa.update(Activity).where(Activity.id == enrollment.activity_id, Activity.enrolled > 0)
                   .values(enrolled=Activity.enrolled - 1))
        first = db.scalar(sa.select(Enrollment).where(Enrollment.activity_id == enrollment.activity_id,
                                                      Enrollment.status == "waiting")
                          .order_by(Enrollment.created_at, Enrollment.id).limit(1).with_for_update())
        if first is not None and _take_place(enrollment.activity_id):
            first.status = "enrolled"
            _event(first, "promoted", None, "system")
            _tell_promoted(first, actor)
    db.commit()
    return enrollment


PROMOTED_KIND = "volunteer.promoted"


def _tell_promoted(enrollment: Enrollment, actor: str | None) -> None:
    """Volunteers have no account: the staff member who put this one on the waiting list
    hears that a place came free (queued in this transaction; once per promotion)."""
    who = db.scalar(sa.select(EnrollmentEvent.actor).where(
        EnrollmentEvent.enrollment_id == enrollment.id, EnrollmentEvent.action == "waiting")
        .order_by(EnrollmentEvent.id.desc()).limit(1))
    if not who or who == actor:
        return
    activity = db.get(Activity, enrollment.activity_id)
    volunteer = db.get(Volunteer, enrollment.volunteer_id)
    starts = activity.starts_at.astimezone(LOCAL_TZ)
    notify(f"volunteer:promoted:{enrollment.id}:{enrollment.created_at.timestamp():.0f}", [who],
           kind=PROMOTED_KIND, title=f"候补转正：{activity.title}",
           text=f"您登记候补的志愿者 {mask_name(volunteer.name)} 已转为正式报名：「{activity.title}」，"
                f"{starts:%Y-%m-%d %H:%M} 开始，请通知其按时参加",
           link=f"/p/volunteer/activities/{activity.id}", org=activity.org)


def attendance(activity_id: int, volunteer_id: int, kind: str, *, actor: str | None = None,
               channel: str = "qr") -> Enrollment:
    """Sign in (``in``) or out (``out``): by QR code (``actor`` None) or by the organiser; only
    enrolled volunteers, sign-out after sign-in. Repeating a step changes nothing."""
    enrollment = db.scalar(sa.select(Enrollment).where(Enrollment.activity_id == activity_id,
                                                       Enrollment.volunteer_id == volunteer_id))
    if enrollment is None or enrollment.status != "enrolled":
        raise APIError(422, [("", "未找到您在该活动的有效报名", "not_enrolled")])
    now = utcnow()
    if kind == "in":
        opens = activity_day(db.get(Activity, activity_id))
        if now.astimezone(LOCAL_TZ).date() < opens:
            raise APIError(422, [("", f"签到将于活动当天（{opens.month}月{opens.day}日）开放", "not_open")])
        if enrollment.signed_in_at is None:
            enrollment.signed_in_at = now
            _event(enrollment, "signed_in", actor, channel)
    else:
        if enrollment.signed_in_at is None:
            raise APIError(422, [("", "请先签到再签退", "not_signed_in")])
        if enrollment.signed_out_at is None:
            enrollment.signed_out_at = now
            _event(enrollment, "signed_out", actor, channel)
    db.commit()
    return enrollment


def proposed_hours(activity: Activity, enrollment: Enrollment) -> float:
    """Hours suggested from attendance: whole half hours, no more than the activity lasts."""
    if enrollment.signed_in_at is None or enrollment.signed_out_at is None:
        return 0.0
    stayed = (enrollment.signed_out_at - enrollment.signed_in_at).total_seconds() / 3600
    return min(round_down_half(stayed), round_down_half(activity.duration_hours))
