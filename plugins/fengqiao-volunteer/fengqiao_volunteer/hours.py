"""The hours ledger: confirmed entries, corrections, disputes, totals, stars and their notice.

Entries are only ever inserted. Each new entry is checked against the rules (half-hour
steps, no more than the activity lasts, no more than the daily limit summed over every
activity that day) while the volunteer's row is locked, so two organisers confirming at once
cannot push a day past the limit. After the commit the ``volunteer.hours_confirmed`` signal
goes out (see the README for its keyword arguments).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.events import plugin_signal, send_signal
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.workdays import LOCAL_TZ, today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_volunteer.models import Activity, Dispute, HoursEntry, StarAward, Volunteer
from fengqiao_volunteer.rules import fmt_hours, is_half_hour_step, settings, stars_for, valid_id

hours_confirmed = plugin_signal("volunteer.hours_confirmed")


def _number(value, pointer: str = "/hours") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValidationFailed([(pointer, "请填写工时（小时数）", "type")])
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValidationFailed([(pointer, "工时应为数字，如 2 或 2.5", "type")]) from None
    if not number.is_finite():
        raise ValidationFailed([(pointer, "工时应为数字，如 2 或 2.5", "type")])
    if not is_half_hour_step(number):
        raise ValidationFailed([(pointer, "工时须以 0.5 小时为单位登记（如 1、1.5、2）", "multipleOf")])
    return number


def _served_on(activity: Activity, value) -> date:
    first = activity.starts_at.astimezone(LOCAL_TZ).date()
    last = activity.ends_at.astimezone(LOCAL_TZ).date()
    if value in (None, ""):
        day = first
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed([("/served_on", "请输入有效的日期（如 2026-01-31）", "format")]) from None
    if not first <= day <= last:
        raise ValidationFailed([("/served_on", f"服务日期应在活动期间（{first} 至 {last}）", "range")])
    if day > today_local():
        raise ValidationFailed([("/served_on", "不能登记尚未发生的服务工时", "range")])
    return day


def _sum(*conditions) -> Decimal:
    return Decimal(db.scalar(sa.select(sa.func.coalesce(sa.func.sum(HoursEntry.hours), 0)).where(*conditions)) or 0)


def total_hours(volunteer_id: int) -> Decimal:
    """Cumulative confirmed hours (corrections included)."""
    return _sum(HoursEntry.volunteer_id == volunteer_id)


def _check_limits(volunteer: Volunteer, activity: Activity | None, day: date, hours: Decimal) -> None:
    if activity is not None:
        limit = Decimal(str(activity.duration_hours))
        already = _sum(HoursEntry.volunteer_id == volunteer.id, HoursEntry.activity_id == activity.id)
        if already + hours > limit:
            raise ValidationFailed([("/hours", f"工时不能超过活动时长 {fmt_hours(limit)} 小时"
                                     f"（该志愿者在此活动已登记 {fmt_hours(already)} 小时）", "maximum")])
    daily = Decimal(str(settings()["daily_max_hours"]))
    that_day = _sum(HoursEntry.volunteer_id == volunteer.id, HoursEntry.served_on == day)
    if that_day + hours > daily:
        raise ValidationFailed([("/hours", f"每人每日工时不能超过 {fmt_hours(daily)} 小时"
                                 f"（{day} 已登记 {fmt_hours(that_day)} 小时）", "daily_limit")])


def _lock_volunteer(volunteer_id: int) -> Volunteer:
    write_lock()
    volunteer = db.scalar(sa.select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()) if valid_id(
        volunteer_id) else None
    if volunteer is None:
        raise ValidationFailed([("/volunteer", "志愿者不存在", "enum")])
    return volunteer


def record_hours(activity: Activity, volunteer_id, hours, *, served_on=None, actor: str | None) -> HoursEntry:
    """Confirm ``hours`` of service in ``activity`` (the organiser's confirmation)."""
    if not isinstance(volunteer_id, int) or isinstance(volunteer_id, bool):
        raise ValidationFailed([("/volunteer", "请填写志愿者编号（整数）", "type")])
    amount = _number(hours)
    if amount <= 0:
        raise ValidationFailed([("/hours", "工时应大于 0", "exclusiveMinimum")])
    day = _served_on(activity, served_on)
    try:
        volunteer = _lock_volunteer(volunteer_id)
        _check_limits(volunteer, activity, day, amount)
        entry = HoursEntry(volunteer_id=volunteer.id, activity_id=activity.id, served_on=day, hours=amount,
                           confirmed_by=actor, confirmed_at=utcnow())
        db.add(entry)
        db.flush()
        _award_stars(volunteer.id)
        db.commit()
    except APIError:
        db.rollback()
        raise
    _announce(entry)
    return entry


def correct_hours(entry_id: int, hours, reason: str, *, actor: str | None) -> HoursEntry:
    """A correction: a new entry of ``hours`` (negative takes hours back) with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("/reason", "请填写更正原因", "required")])
    if len(reason) > 500:
        raise ValidationFailed([("/reason", "最多填写 500 个字符", "maxLength")])
    amount = _number(hours)
    if amount == 0:
        raise ValidationFailed([("/hours", "更正工时不能为 0", "range")])
    original = db.get(HoursEntry, entry_id) if valid_id(entry_id) else None
    if original is None or original.corrects_id is not None:
        raise APIError(404, [("", "要更正的工时记录不存在", "not_found")])
    try:
        volunteer = _lock_volunteer(original.volunteer_id)
        standing = original.hours + _sum(HoursEntry.corrects_id == original.id)
        if standing + amount < 0:
            raise ValidationFailed([("/hours", f"更正后该条工时不能为负（现为 {fmt_hours(standing)} 小时）", "minimum")])
        if amount > 0:
            activity = db.get(Activity, original.activity_id) if original.activity_id else None
            _check_limits(volunteer, activity, original.served_on, amount)
        entry = HoursEntry(volunteer_id=volunteer.id, activity_id=original.activity_id, served_on=original.served_on,
                           hours=amount, corrects_id=original.id, reason=reason, confirmed_by=actor,
                           confirmed_at=utcnow())
        db.add(entry)
        db.flush()
        _award_stars(volunteer.id)
        for dispute in db.scalars(sa.select(Dispute).where(Dispute.entry_id == original.id,
                                                           Dispute.resolved_at.is_(None))):
            dispute.resolved_at, dispute.resolved_by = utcnow(), actor
            dispute.resolution = f"已更正 {fmt_hours(amount)} 小时：{reason}"[:500]
        db.commit()
    except APIError:
        db.rollback()
        raise
    _announce(entry)
    return entry


def _announce(entry: HoursEntry) -> None:
    """``volunteer.hours_confirmed`` after the commit (the contract is in the README)."""
    volunteer = db.get(Volunteer, entry.volunteer_id)
    activity = db.get(Activity, entry.activity_id) if entry.activity_id else None
    send_signal(hours_confirmed, entry_id=entry.id, volunteer_id=volunteer.id, name=volunteer.name,
                id_card=volunteer.id_card, mobile=volunteer.mobile, org=volunteer.org,
                activity_id=activity.id if activity else None, activity_title=activity.title if activity else "",
                served_on=entry.served_on.isoformat(), hours=float(entry.hours),
                double_report=bool(volunteer.double_report), confirmed_by=entry.confirmed_by)


# -- stars and their notice (公示) --------------------------------------------------------

def _award_stars(volunteer_id: int) -> None:
    """A newly reached star level is announced for ``notice_days`` before it is final."""
    stars = stars_for(total_hours(volunteer_id))
    highest = db.scalar(sa.select(sa.func.max(StarAward.stars)).where(StarAward.volunteer_id == volunteer_id)) or 0
    if stars > highest:
        ends = today_local() + timedelta(days=int(settings()["notice_days"]))
        db.add(StarAward(volunteer_id=volunteer_id, stars=stars, notice_ends=ends, status="notice"))


def latest_award(volunteer_id: int) -> StarAward | None:
    return db.scalar(sa.select(StarAward).where(StarAward.volunteer_id == volunteer_id)
                     .order_by(StarAward.stars.desc()).limit(1))


def finalise_awards() -> int:
    """Periodic job: awards whose notice ended become final (safe to run twice)."""
    result = db.execute(sa.update(StarAward)
                        .where(StarAward.status == "notice", StarAward.notice_ends <= today_local())
                        .values(status="final", finalised_at=utcnow()))
    db.commit()
    return result.rowcount


# -- disputes ------------------------------------------------------------------------------

def dispute_open_until(entry: HoursEntry) -> date:
    return entry.confirmed_at.astimezone(LOCAL_TZ).date() + timedelta(days=int(settings()["dispute_days"]))


def raise_dispute(entry_id: int, volunteer_id: int, reason: str) -> Dispute:
    """The volunteer objects to a confirmed entry within the dispute window."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("/reason", "请说明异议理由", "required")])
    if len(reason) > 500:
        raise ValidationFailed([("/reason", "最多填写 500 个字符", "maxLength")])
    entry = db.get(HoursEntry, entry_id) if valid_id(entry_id) else None
    if entry is None or entry.volunteer_id != volunteer_id or entry.corrects_id is not None:
        raise APIError(404, [("", "工时记录不存在", "not_found")])
    if today_local() > dispute_open_until(entry):
        raise APIError(422, [("", f"异议期已于 {dispute_open_until(entry)} 结束", "dispute_closed")])
    if db.scalar(sa.select(Dispute.id).where(Dispute.entry_id == entry.id, Dispute.resolved_at.is_(None))):
        raise APIError(409, [("", "该工时已有待处理的异议", "duplicate")])
    dispute = Dispute(entry_id=entry.id, reason=reason)
    db.add(dispute)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise
    return dispute


def reject_dispute(dispute_id: int, resolution: str, *, actor: str | None) -> Dispute:
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed([("/resolution", "请填写处理意见", "required")])
    dispute = db.get(Dispute, dispute_id)
    if dispute is None or dispute.resolved_at is not None:
        raise APIError(404, [("", "异议不存在或已处理", "not_found")])
    dispute.resolved_at, dispute.resolved_by, dispute.resolution = utcnow(), actor, f"维持原工时：{resolution}"[:500]
    db.commit()
    return dispute


def entries_of(volunteer_id: int, limit: int = 200, offset: int = 0) -> list[HoursEntry]:
    return list(db.scalars(sa.select(HoursEntry).where(HoursEntry.volunteer_id == volunteer_id)
                           .order_by(HoursEntry.served_on.desc(), HoursEntry.id.desc()).limit(limit).offset(offset)))


def hours_by_year(volunteer_id: int, until=None) -> list[tuple[int, Decimal]]:
    conditions = [HoursEntry.volunteer_id == volunteer_id]
    if until is not None:
        conditions.append(HoursEntry.confirmed_at <= until)
    rows = db.execute(sa.select(HoursEntry.served_on, HoursEntry.hours).where(*conditions)).all()
    years: dict[int, Decimal] = {}
    for served_on, hours in rows:
        years[served_on.year] = years.get(served_on.year, Decimal(0)) + Decimal(hours)
    return sorted(years.items())
