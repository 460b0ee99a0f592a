"""What a resident who agreed to SMS hears of their case, and the job that queues it.

``fengqiao.notifications.residents`` decides *whether* a resident may be reached (consent,
mobile, not anonymised) and is imported by the sender; this module writes the message and
queues the deliveries. It imports the case engine's public view, so nothing in the engine or
the sender imports it: they queue the job ``notifications.resident`` by name
(``residents.queue_update``), which keeps the import graph free of cycles.
"""

from __future__ import annotations

from fengqiao.cases.case_types import case_type
from fengqiao.cases.tracking import public_reply
from fengqiao.db import db, utcnow
from fengqiao.jobs import job
from fengqiao.models import Case, CaseEvent
from fengqiao.notifications.channels import active_channels
from fengqiao.notifications.fanout import (
    hold_until,
    kind_enabled,
    message_payload,
    queue,
    quiet_window,
)
from fengqiao.notifications.residents import MAX_NOTE, resident_recipient, track_link


def resident_text(case: Case, event_id: int | None = None) -> str:
    """Case number, state and the step's public note (masked): nothing about anybody else."""
    ctype = case_type(case.type, case.workflow_version)
    text = f"您反映的事项 {case.number} 当前状态：{ctype.state_title(case.state)}。"
    event = db.get(CaseEvent, event_id) if event_id is not None else None
    note = public_reply(event, ctype) if event is not None and event.case_id == case.id else None
    if note:
        text += f"答复：{note[:MAX_NOTE]}{'…' if len(note) > MAX_NOTE else ''}"
    return text + "详情请凭查询码查看。"


def resident_channels() -> list:
    """Active personal channels to a mobile that may carry residents' case updates (SMS)."""
    return [c for _, c in sorted(active_channels().items())
            if c.reaches_residents and c.audience == "personal" and c.address_field == "mobile"]


def notify_resident(case: Case, event_key: str, kind: str, text: str | None = None, *,
                    event_id: int | None = None) -> list[int]:
    """Queue one delivery per resident channel for ``case`` (target ``case:<id>``), keyed by
    ``event_key`` so a step told twice (its ``notify`` effect and its closure) sends once.
    Nothing without consent and mobile, or when the case's unit switched ``kind`` off.
    ``text`` defaults to :func:`resident_text` of the history row ``event_id``. Held through
    the unit's quiet hours on channels that keep them (never urgent: it is the resident's
    night). Returns the ids of the rows written now."""
    channels = resident_channels()
    if not channels or resident_recipient(case.id) is None or not kind_enabled(kind, case.org_id):
        return []
    payload = message_payload(event_key, kind=kind, title=f"事项 {case.number} 办理进展",
                              text=text or resident_text(case, event_id), link=track_link(case),
                              case_number=case.number)
    now = utcnow()
    held = hold_until(now, quiet_window(case.org_id))
    return queue([{"event_key": event_key, "channel": c.name, "target": f"case:{case.id}", "org_id": case.org_id,
                   "kind": kind[:40], "payload": payload, "urgent": False,
                   "next_attempt_at": held if c.quiet_hours and held else now} for c in channels])


@job("notifications.resident")
def resident_update(case_id: int, event_key: str, kind: str, event_id: int | None = None) -> dict:
    """Queue the resident's message about one event of case ``case_id`` (idempotent: the
    deliveries are unique per event, channel and case)."""
    case = db.get(Case, case_id)
    written = notify_resident(case, event_key, kind, event_id=event_id) if case is not None else []
    return {"deliveries": len(written)}
