"""Points from 双报到 volunteer service, received through ``volunteer.hours_confirmed``.

The volunteer plugin is never imported: its signal (kwargs in its README) is received by name.
When it is not installed or switched off, nothing arrives and nothing else changes.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from fengqiao.sdk.events import plugin_signal
from fengqiao.sdk.models import db, write_lock
from fengqiao.sdk.plugin import plugin_settings
from sqlalchemy.exc import IntegrityError

from fengqiao_vanguard.indicators import find_indicator, set_for_year
from fengqiao_vanguard.models import EventHistory, Member, ScoreEvent

log = logging.getLogger(__name__)
hours_confirmed = plugin_signal("volunteer.hours_confirmed")


def match_member(id_card: str | None, mobile: str | None) -> Member | None:
    """The member with this 身份证号, else (when none was given or none matches) this mobile."""
    if id_card:
        member = db.scalar(sa.select(Member).where(Member.id_card == id_card.upper()))
        if member is not None:
            return member
    if mobile:
        return db.scalar(sa.select(Member).where(Member.mobile == mobile).order_by(Member.id))
    return None


def _already_credited(member_id: int, year: int) -> Decimal:
    total = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(ScoreEvent.points), 0))
                      .where(ScoreEvent.member_id == member_id, ScoreEvent.year == year,
                             ScoreEvent.source == "volunteer", ScoreEvent.status != "rejected"))
    return Decimal(str(total or 0))


def on_hours_confirmed(sender, **kwargs) -> None:
    """A confirmed hours entry of a 双报到 member becomes a pending event: hours × rate, within
    the yearly cap, under the configured indicator; once per ``entry_id``."""
    if not kwargs.get("double_report"):
        return
    entry_id = kwargs.get("entry_id")
    if not isinstance(entry_id, int):
        return
    if db.scalar(sa.select(ScoreEvent.id).where(ScoreEvent.volunteer_entry_id == entry_id)):
        return  # delivered before
    member = match_member(kwargs.get("id_card"), kwargs.get("mobile"))
    if member is None:
        return
    served_on = date.fromisoformat(str(kwargs["served_on"]))
    settings = plugin_settings("vanguard")
    indicator = find_indicator(set_for_year(member.org_code, served_on.year), settings["volunteer_indicator"])
    if indicator is None:
        log.warning("vanguard: indicator %s not in force for member %s; volunteer entry %s skipped",
                    settings["volunteer_indicator"], member.id, entry_id)
        return
    hours = Decimal(str(kwargs.get("hours") or 0))
    points = (hours * Decimal(str(settings["volunteer_rate"]))).quantize(Decimal("0.01"))
    write_lock()
    db.scalar(sa.select(Member.id).where(Member.id == member.id).with_for_update())  # one member at a time
    note = ""
    if points > 0:
        room = max(Decimal(str(settings["volunteer_year_cap"])) - _already_credited(member.id, served_on.year),
                   Decimal(0))
        if points > room:
            note = f"（按年度上限 {settings['volunteer_year_cap']:g} 分，计 {room:f} 分）"
            points = room
    if points == 0:
        db.rollback()
        return
    title = str(kwargs.get("activity_title") or "志愿服务")[:100]
    event = ScoreEvent(member_id=member.id, indicator_id=indicator.id, points=float(points),
                       reason=f"双报到志愿服务「{title}」{hours:f} 小时{note}",
                       period=served_on.strftime("%Y-%m"), year=served_on.year, status="pending",
                       source="volunteer", volunteer_entry_id=entry_id, created_by=None)
    db.add(event)
    try:
        db.flush()
        db.add(EventHistory(event_id=event.id, actor=kwargs.get("confirmed_by"), action="proposed",
                            comment=f"志愿服务时长确认（记录 {entry_id}）自动生成"))
        db.commit()
    except IntegrityError:  # a concurrent delivery of the same entry stored it first
        db.rollback()
