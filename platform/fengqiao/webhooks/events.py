"""Which events reach webhooks, and the job that turns one event into deliveries.

The core's signals are sent after the transaction holding the change commits, never for a
change that rolled back (``fengqiao.signals.send``). The receivers here do no HTTP: each
enqueues ``webhooks.fan_out`` (deduplicated by the event's id) and commits that one row, the
way ``cases.jobs.init_case_jobs`` does; nothing is enqueued while no endpoint is active, so
installations without webhooks pay one small query per event.

Event ids are stable: built from what the event is about (``case.closed:<number>:<history
row id>``), so a duplicate signal cannot fan out twice, and every retry of a delivery carries
the same id (receivers drop duplicates by it). Plugin events (``plugin_signal``s sent with
``sdk.events.send_signal``) are watched generically: ``send_signal`` calls :func:`watch`, and
the event is ``plugin.<signal name>`` (``plugin.volunteer.hours_confirmed``) with the signal's
keyword arguments as data, masked.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from blinker import ANY

from fengqiao import caches, signals
from fengqiao.db import current_session, db, utcnow
from fengqiao.jobs.outbox import enqueue
from fengqiao.jobs.registry import job
from fengqiao.models import Case, CaseEvent, FormVersion, OrgUnit, Submission, WebhookEndpoint
from fengqiao.models.forms import Form
from fengqiao.webhooks import CHANNEL, PLUGIN_PREFIX, subscribed
from fengqiao.webhooks import payload as body

log = logging.getLogger(__name__)
JOB = "webhooks.fan_out"


def _any_endpoint() -> bool:
    """Whether any endpoint is active: asked by every case event, so cached (``caches.WEBHOOKS``,
    kept exact by a trigger on ``webhook_endpoints``) — an installation without webhooks pays
    nothing per submission beyond the stamps the request reads anyway."""
    session = current_session()
    return caches.cached(session, caches.WEBHOOKS, "any_active", lambda: session.scalar(
        sa.select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True)).limit(1)) is not None)


def emit(event: str, event_id: str, **about: Any) -> None:
    """Enqueue the fan-out of one event and commit it (a receiver's own unit of work)."""
    try:
        if _any_endpoint():
            enqueue(JOB, dedupe_key=f"webhook:{event_id}"[:200], event=event, event_id=event_id[:120],
                    occurred_at=utcnow().isoformat(), **about)
        db.commit()
    except Exception:
        db.rollback()  # leave the session usable for whoever runs next
        raise


def _case_row_id(number: str, action: str | None = None, to_state: str | None = None) -> tuple[int, int] | None:
    """(case id, id of its latest history row, of ``action`` when given): the change's identity."""
    stmt = sa.select(Case.id, CaseEvent.id).join(CaseEvent, CaseEvent.case_id == Case.id).where(Case.number == number)
    if action:
        stmt = stmt.where(CaseEvent.action == action)
    if to_state:
        stmt = stmt.where(CaseEvent.to_state == to_state)
    found = db.execute(stmt.order_by(CaseEvent.id.desc()).limit(1)).first()
    return (found[0], found[1]) if found else None


def _change_id(number: str, **match: str | None) -> str:
    found = _case_row_id(number, **match)
    return f"{number}:{found[1]}" if found else f"{number}:{uuid.uuid4().hex[:12]}"


def on_case_created(sender, case_number: str, **_kw) -> None:
    emit("case.created", f"case.created:{case_number}", case_number=case_number)


def on_case_transitioned(sender, case_number: str, action: str, from_state=None, to_state=None, **_kw) -> None:
    change = {"action": action, "from_state": from_state, "to_state": to_state}
    emit("case.changed", f"case.changed:{_change_id(case_number, action=action)}", case_number=case_number,
         change=change)


def on_case_assigned(sender, case_number: str, assignee=None, **_kw) -> None:
    # the same history row as the transition it came with: the dedupe key makes it one event
    emit("case.changed", f"case.changed:{_change_id(case_number)}", case_number=case_number,
         change={"action": "assign", "assignee_changed": True})


def on_case_escalated(sender, case_number: str, org=None, automatic=False, **_kw) -> None:
    emit("case.changed", f"case.changed:{_change_id(case_number)}", case_number=case_number,
         change={"action": "escalate", "escalated_to": org})


def on_case_rated(sender, case_number: str, rating=None, **_kw) -> None:
    emit("case.changed", f"case.changed:{case_number}:rated", case_number=case_number,
         change={"action": "rate", "rating": rating})


def on_case_closed(sender, case_number: str, state=None, **_kw) -> None:
    emit("case.closed", f"case.closed:{_change_id(case_number, to_state=state)}", case_number=case_number)


def on_submission_received(sender, submission_id: int, case_number=None, org=None, **_kw) -> None:
    emit("submission.received", f"submission.received:{submission_id}", submission_id=submission_id,
         case_number=case_number, org=org)


CORE_RECEIVERS = (
    (signals.case_created, on_case_created),
    (signals.case_transitioned, on_case_transitioned),
    (signals.case_assigned, on_case_assigned),
    (signals.case_escalated, on_case_escalated),
    (signals.case_rated, on_case_rated),
    (signals.case_closed, on_case_closed),
    (signals.submission_received, on_submission_received),
)
for _signal, _receiver in CORE_RECEIVERS:  # every app: importing the core's jobs imports this
    _signal.connect(_receiver, sender=ANY, weak=False)


# ---- plugin signals --------------------------------------------------------------------------

_watched: set[str] = set()


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of a signal's keyword value (job arguments are JSON)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth < 4 and isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:50]}
    if depth < 4 and isinstance(value, list | tuple | set):
        return [_plain(v, depth + 1) for v in list(value)[:50]]
    return str(value)[:500]


def watch(signal) -> None:
    """Relay plugin signal ``signal`` to webhooks (``sdk.events.send_signal`` calls this before
    sending; connecting again is a no-op)."""
    name = getattr(signal, "name", None)
    if not name or name in signals.ALL or name in _watched:
        return

    def relay(sender, **kwargs) -> None:
        plugin = name.split(".", 1)[0]
        values = {k: _plain(v) for k, v in kwargs.items()}
        emit(f"{PLUGIN_PREFIX}{name}"[:40], f"{PLUGIN_PREFIX}{name}:{uuid.uuid4().hex}"[-120:], plugin=plugin,
             values=values, case_number=values.get("case_number") if isinstance(values.get("case_number"), str) else None,
             org=values.get("org") if isinstance(values.get("org"), str) else None)

    signal.connect(relay, sender=ANY, weak=False)
    _watched.add(name)


# ---- the job -----------------------------------------------------------------------------------


def endpoints_for(event: str, unit_path: str | None) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to ``event`` whose unit's subtree holds ``unit_path``
    (an event of no unit reaches the endpoints of top-level units only)."""
    rows = db.execute(sa.select(WebhookEndpoint, OrgUnit.path, OrgUnit.parent_id)
                      .join(OrgUnit, OrgUnit.id == WebhookEndpoint.org_id)
                      .where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)).all()
    return [e for e, path, parent in rows if subscribed(e.events, event)
            and (unit_path.startswith(path) if unit_path else parent is None)]


def _submission(submission_id: int | None) -> tuple[Submission, str, int] | None:
    if submission_id is None:
        return None
    found = db.execute(sa.select(Submission, Form.key, FormVersion.number)
                       .join(FormVersion, FormVersion.id == Submission.form_version_id)
                       .join(Form, Form.id == FormVersion.form_id).where(Submission.id == submission_id)).first()
    return (found[0], found[1], found[2]) if found else None


@job(JOB)
def fan_out(event: str, event_id: str, occurred_at: str, case_number: str | None = None,
            submission_id: int | None = None, org: str | None = None, change: dict | None = None,
            plugin: str | None = None, values: dict | None = None) -> dict:
    """Queue one delivery of ``event`` per endpoint that wants it (idempotent: rows are unique
    per event id and endpoint)."""
    case = db.scalar(sa.select(Case).where(Case.number == case_number)) if case_number else None
    submission = _submission(submission_id)
    unit = case.org if case else db.scalar(sa.select(OrgUnit).where(OrgUnit.code == org)) if org else None
    if case_number and case is None and event.startswith("case."):
        return {"skipped": "case gone"}
    targets = endpoints_for(event, unit.path if unit else None)
    if not targets:
        return {"queued": 0}
    variants: dict[bool, dict] = {}

    def data_for(personal: bool) -> dict:
        if personal not in variants:
            data: dict[str, Any] = {}
            if case is not None:
                data["case"] = body.case_json(case, personal)
                order = body.external_order(case.id)
                if order:
                    data["external_order"] = order
                if change:
                    data["change"] = body.change_json(change, case)
            if submission is not None:
                row, form_key, version = submission
                data["submission"] = {"id": row.id, "form_key": form_key, "form_version": version,
                                      "channel": row.channel, "case_number": case_number,
                                      "org": body.unit_json(unit),
                                      "created_at": row.created_at.isoformat() if row.created_at else None,
                                      "data": body.form_data(form_key, version, row.data, personal)}
            if plugin is not None:
                data["plugin"] = plugin
                data["org"] = body.unit_json(unit)
                data["values"] = body.plugin_json(values or {}, personal)
            variants[personal] = body.envelope(event_id, event, occurred_at, data)
        return variants[personal]

    from fengqiao.notifications.fanout import queue

    ids = queue([{"event_key": event_id, "channel": CHANNEL, "target": f"endpoint:{e.id}", "org_id": e.org_id,
                  "kind": event[:40], "payload": data_for(e.personal)} for e in targets])
    return {"queued": len(ids)}
