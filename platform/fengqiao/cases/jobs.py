"""The case engine's background jobs: deadline sweeps, automatic escalation, recomputing
deadlines after a calendar change, check-in deadlines of 吹哨报到, notifications, and the
daily anonymisation of closed cases past their retention (``cases.retention``).

Each is idempotent: it looks at the state in the database and changes only what still needs
changing, so running it twice (RQ redelivery, the outbox sweep) does no harm. The runner
commits each job once at its end (``jobs/runner.py``); signals go out after that commit.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from fengqiao import signals
from fengqiao.accounts.directory import unit_heads, unit_staff
from fengqiao.cases import retention, sla
from fengqiao.cases.case_types import case_type
from fengqiao.cases.escalation import LEVEL_TITLES, cooling_until, next_unit
from fengqiao.cases.recipients import handling_unit_id, recipient_units, resolve
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.jobs import enqueue, job, periodic, set_progress
from fengqiao.masking import mask_text
from fengqiao.models import Case, CaseEvent, CaseParticipant, User
from fengqiao.notifications.fanout import URGENT_TIERS, notify_users
from fengqiao.notifications.service import kind_label

log = logging.getLogger(__name__)
BATCH = 500
SWEEP_SECONDS = 60
RETENTION_SECONDS = 24 * 3600  # daily


def _open_with_deadline() -> sa.Select:
    return sa.select(Case).where(Case.closed_at.is_(None), Case.paused_at.is_(None),
                                 Case.deadline.is_not(None))


def _system_event(case: Case, action: str, comment: str, changes: dict, internal: bool = True) -> CaseEvent:
    event = CaseEvent(case_id=case.id, at=utcnow(), actor_id=None, action=action,
                      from_state=case.state, to_state=case.state, comment=comment,
                      changes=changes, internal=internal)
    db.add(event)
    return event


def _handling_units(case: Case) -> list[int]:
    """The unit that handles the case: the one it was last dispatched to, else its own."""
    return [handling_unit_id(case) or case.org_id]


def notify_handlers(case: Case, event_id: int, event: str, message: str) -> None:
    """Tell whoever answers for the case now (its assignee and the handling unit's heads, and
    that unit's group robots) of something a resident did: a rating, a reopening."""
    units = _handling_units(case)
    recipients = unit_heads(units)
    if case.assignee is not None and case.assignee.active:
        recipients.append(case.assignee.username)
    notify_later(case, event_id, event, message, recipients, units=units)


def _notify_sla(case: Case, status: str, event_id: int | None) -> None:
    """临期/超期 warnings go to whom the type's ``sla.notify`` names (by default the assignee and
    the handling unit's heads), once per case, status and deadline (the overdue history row,
    or a key made of them for 临期)."""
    codes = case_type(case.type, case.workflow_version).sla_notify(status)
    recipients = resolve(case, codes, actor=None, assignee_id=case.assignee_id, escalated_to=case.escalated_to_id)
    units = recipient_units(case, codes, escalated_to=case.escalated_to_id)
    deadline = case.deadline.astimezone(LOCAL_TZ)
    if status == sla.OVERDUE:
        message = f"事项 {case.number} 已超过办理期限（{deadline:%Y年%m月%d日 %H:%M}），请尽快办结"
    else:
        message = f"事项 {case.number} 即将超期，办理期限为 {deadline:%Y年%m月%d日 %H:%M}，请抓紧办理"
    notify_later(case, event_id, status, message, recipients, units=units,
                 key=None if event_id else f"sla:{case.id}:{status}:{case.deadline.isoformat()}")


def _mark_status(now) -> tuple[int, int]:
    """临期 and 超期 as time passes; returns (due soon, overdue) newly marked."""
    soon = overdue = 0
    for case in db.scalars(_open_with_deadline().where(
            Case.sla_status.in_((sla.ON_TRACK, sla.DUE_SOON)), Case.deadline < now + timedelta(days=45))
            .order_by(Case.deadline).limit(5000)):
        status = sla.status_at(case.deadline, now, case_type(case.type, case.workflow_version).due_soon,
                               case.org.path, case.sla_limit)
        if status == case.sla_status:
            continue
        case.sla_status = status
        if status == sla.OVERDUE:
            overdue += 1
            event = _system_event(case, "sla_overdue", "已超过办理期限", {"deadline": case.deadline.isoformat()})
            db.flush()
            _notify_sla(case, status, event.id)
        elif status == sla.DUE_SOON:
            soon += 1
            _notify_sla(case, status, None)
    return soon, overdue


def _escalate_overdue(now) -> list[tuple[str, str]]:
    """Climb the type's escalation ladder for overdue cases, one level per climb and not
    within the cool-down of the last one (escalation.py); returns (number, unit code). A rung
    is passed once the case stands at its level (by hand or after several climbs)."""
    done = []
    for case in db.scalars(_open_with_deadline().where(Case.sla_status == sla.OVERDUE)
                           .order_by(Case.deadline).limit(2000)):
        ctype = case_type(case.type, case.workflow_version)
        ladder = ctype.escalation
        if case.escalation_level >= len(ladder):
            continue
        rung = ladder[case.escalation_level]
        waited = rung["after"]
        due = case.deadline if not any(waited.values()) else \
            sla.deadline_for(case.deadline, waited, 0, case.org.path).at
        if now < due or cooling_until(case, now) is not None:
            continue
        target = next_unit(case, rung["level"])  # the rung's unit, if still above the case
        unit = next_unit(case) if target is not None else None
        if unit is None or unit.id == target.id:
            case.escalation_level += 1  # the rung is reached (or there is nothing above)
        if unit is None:
            continue
        case.escalated_to_id = unit.id
        case.escalated_to = unit
        case.escalated_at = now
        event = _system_event(case, "escalate", f"超期自动升级至{LEVEL_TITLES[unit.level]}：{unit.name}",
                              {"unit": unit.code, "level": case.escalation_level, "automatic": True})
        db.flush()
        codes = ctype.sla_notify("escalated")  # default: the staff of the unit escalated to
        notify_later(case, event.id, "escalate",
                     f"事项 {case.number} 已超期，自动升级至{LEVEL_TITLES[unit.level]}：{unit.name}，请督促办理",
                     resolve(case, codes, actor=None, assignee_id=case.assignee_id, escalated_to=unit.id),
                     units=recipient_units(case, codes, escalated_to=unit.id))
        done.append((case.number, unit.code))
    for number, code in done:
        signals.send(signals.case_escalated, case_number=number, org=code, automatic=True)
    return done


def _late_check_ins(now) -> int:
    """Summoned units that missed their 报到 time get one history row each."""
    late = db.execute(
        sa.select(CaseParticipant, Case).join(Case, Case.id == CaseParticipant.case_id)
        .where(CaseParticipant.role == "summoned", CaseParticipant.checked_in_at.is_(None),
               CaseParticipant.checkin_due < now, Case.closed_at.is_(None))
    ).all()
    marked = 0
    for participant, case in late:
        already = db.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "checkin_overdue",
            CaseEvent.changes["unit"].as_string() == participant.org.code))
        if already:
            continue
        _system_event(case, "checkin_overdue", f"{participant.org.name}未在规定时间内报到",
                      {"unit": participant.org.code})
        marked += 1
    return marked


@job("cases.sla_sweep", queue="fengqiao-high")
def sla_sweep() -> dict:
    now = utcnow()
    soon, overdue = _mark_status(now)
    escalated = _escalate_overdue(now)
    late = _late_check_ins(now)
    return {"due_soon": soon, "overdue": overdue, "escalated": len(escalated), "late_check_ins": late}


periodic("cases.sla_sweep", every=SWEEP_SECONDS)


@job("cases.recompute_deadlines", queue="fengqiao-low")
def recompute_deadlines(years: list[int], org: str | None = None) -> dict:
    """After the calendar changed: recompute open working-day deadlines the years touch."""
    now, last_id, changed, seen = utcnow(), 0, 0, 0
    first = min(years)
    stmt = (sa.select(Case).where(Case.closed_at.is_(None), Case.sla_start.is_not(None),
                                  sa.or_(Case.deadline_provisional.is_(True),
                                         Case.deadline >= sa.literal(_year_start(first)))))
    total = db.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    while True:
        batch = list(db.scalars(stmt.where(Case.id > last_id).order_by(Case.id).limit(BATCH)))
        if not batch:
            break
        for case in batch:
            last_id, seen = case.id, seen + 1
            if "working_days" not in (case.sla_limit or {}):
                continue
            if org and f"/{org}/" not in case.org.path:
                continue
            values = sla.recomputed(case, now, case_type(case.type, case.workflow_version).due_soon)
            if values["deadline"] == case.deadline and values["deadline_provisional"] == case.deadline_provisional:
                continue
            if case.due_at is not None and case.due_at == case.deadline and case.first_closed_at is None:
                values["due_at"] = values["deadline"]  # the first clock is this one: it follows the calendar
            _system_event(case, "deadline_recomputed", "放假调休安排变更，办理期限已重新计算",
                          {"from": case.deadline.isoformat() if case.deadline else None,
                           "to": values["deadline"].isoformat()})
            for key, value in values.items():
                setattr(case, key, value)
            changed += 1
        # A checkpoint per batch: a calendar change can touch every open case, and on SQLite
        # one long write transaction would hold the write lock past the requests' busy timeout.
        # Each batch is complete on its own (the job is idempotent), so a restart resumes.
        db.commit()
        set_progress(seen, total)
    return {"changed": changed, "checked": seen}


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=LOCAL_TZ)


@job("cases.notify")
def notify(case_number: str, event: str, message: str, recipients: list[str], event_id: int | None = None,
           key: str | None = None, units: list[int] | None = None) -> dict:
    """Deliver a notification to the recipients' message centre (站内信) and the channels
    they chose, and to the group robots of ``units`` (the units it is about: dispatched to,
    summoned, escalated to); then hand it to plugins listening to ``case_notification``.
    Nothing is delivered when a unit above the case switched the event off. The text is
    masked (phone and ID numbers) before it leaves. Idempotent: inbox rows and deliveries are
    unique per (event, recipient), keyed by the history row (``event_id``) or, for events that
    write none, by ``key`` (``notify_later``'s); jobs queued before either existed get a key
    from the case, event and message instead."""
    message = mask_text(message)
    if event_id is not None:
        event_key = f"case-event:{event_id}"
    elif key:
        event_key = f"case-key:{key}"
    else:
        event_key = "case-notify:" + hashlib.sha256(f"{case_number}|{event}|{message}".encode()).hexdigest()[:40]
    case = db.scalar(sa.select(Case).where(Case.number == case_number))
    delivered = notify_users(event_key, recipients, kind=event, title=f"{kind_label(event)}：事项 {case_number}",
                             text=message, link=f"/cases/{case_number}", case_number=case_number,
                             org_id=case.org_id if case else None, units=units or (),
                             urgent=bool(case and case.priority in URGENT_TIERS))
    if case is not None and "reporter" in recipients:  # the resident: by SMS, if they agreed to it
        from fengqiao.notifications.residents import queue_update

        queue_update(case.id, event_key, event, event_id)
    log.info("notify %s about %s (%s, %d new in the inbox): %s", recipients, case_number, event, delivered, message)
    signals.send(signals.case_notification, case_number=case_number, event=event,
                 message=message, recipients=recipients)
    return {"recipients": len(recipients)}


def notify_later(case: Case, event_id: int | None, event: str, message: str, recipients: list[str],
                 *, key: str | None = None, units: list[int] | None = None) -> None:
    """Enqueue a notification in the current transaction (once per history row, or per
    ``key`` for events that write none, e.g. 临期); masked already here so the job's stored
    arguments hold no personal numbers either. ``units``: whose group robots hear of it."""
    if recipients or units:
        enqueue("cases.notify", dedupe_key=f"notify:{key or event_id}", case_number=case.number,
                event=event, message=mask_text(message), recipients=sorted(set(recipients)), event_id=event_id,
                **({"key": key} if key else {}), **({"units": sorted(set(units))} if units else {}))


@job("cases.anonymise_expired", queue="fengqiao-low")
def anonymise_expired() -> dict:
    """Anonymise closed cases past their type's retention (PIPL); idempotent."""
    return retention.anonymise_expired().to_json()


periodic("cases.anonymise_expired", every=RETENTION_SECONDS)

PARK_REVIEW_SECONDS = 3600  # hourly: review dates are days, the job runs once per date and case


@job("cases.park_reviews", queue="fengqiao-low")
def park_reviews(now: datetime | str | None = None) -> dict:
    """挂账复核提醒: on a parked item's review date (``review_on``, Asia/Shanghai) its unit's
    staff, its assignee and the approver are notified once, with a system history row; a moved
    date (the ``review`` transition) re-arms it, resuming (恢复办理/销号) clears it."""
    now = datetime.fromisoformat(now) if isinstance(now, str) else (now or utcnow())
    today = now.astimezone(LOCAL_TZ).date()
    due = list(db.scalars(sa.select(Case).where(
        Case.closed_at.is_(None), Case.review_on.is_not(None), Case.review_on <= today,
        sa.or_(Case.review_reminded_on.is_(None), Case.review_reminded_on < Case.review_on))
        .order_by(Case.id).limit(BATCH)))
    for case in due:
        approver = db.scalar(sa.select(CaseEvent.actor_id).where(
            CaseEvent.case_id == case.id, CaseEvent.to_state == case.state, CaseEvent.actor_id.is_not(None))
            .order_by(CaseEvent.id.desc()).limit(1))
        recipients = unit_staff([case.org_id])
        recipients += [u.username for u in (case.assignee, db.get(User, approver) if approver else None) if u]
        event = CaseEvent(case_id=case.id, at=now, actor_id=None, action="park_review",
                          from_state=case.state, to_state=case.state,
                          comment=f"挂账复核提醒：复核日期 {case.review_on.isoformat()} 已到，请复核挂账原因是否消除，"
                                  "及时恢复办理或销号",
                          changes={"review_on": case.review_on.isoformat()}, internal=True)
        db.add(event)
        db.flush()
        notify_later(case, event.id, "park_review",
                     f"挂账事项 {case.number} 已到复核日期（{case.review_on.isoformat()}），请复核", recipients)
        case.review_reminded_on = case.review_on
    return {"reminded": len(due)}


periodic("cases.park_reviews", every=PARK_REVIEW_SECONDS)


def init_case_jobs(app: Flask) -> None:
    """Recompute deadlines whenever the calendar changes (a job, after the change commits)."""

    def _on_calendar_changed(sender, years, org=None, **_kw):
        enqueue("cases.recompute_deadlines", years=list(years), org=org)
        db.commit()  # a receiver runs after the change committed: the enqueue is its own unit

    signals.calendar_changed.connect(_on_calendar_changed, sender=app, weak=False)
    app.extensions["fengqiao.case_jobs_receiver"] = _on_calendar_changed
