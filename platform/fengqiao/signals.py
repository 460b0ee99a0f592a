"""Documented blinker signals of the core (importable by name from ``fengqiao.sdk``).

Each is delivered after the transaction holding the change it reports has committed
(``send`` queues it; see ``fengqiao/transaction.py``). Receivers take ``**kwargs``;
every signal passes ``sender`` (the Flask app) and the identifiers listed in its docstring.
A receiver that raises is logged and never breaks the request nor loses the core's data.
"""

from __future__ import annotations

import logging

from blinker import Namespace
from flask import current_app

from fengqiao.transaction import after_commit

log = logging.getLogger(__name__)
_signals = Namespace()

form_published = _signals.signal(
    "form_published",
    doc="A form version was published. kwargs: form_key, version (int), breaking (bool).",
)
submission_received = _signals.signal(
    "submission_received",
    doc="A form was submitted and stored. kwargs: form_key, form_version, submission_id, "
    "case_number (None for an intake-only form), org (code of the accepting unit), "
    "channel ('web' | 'api').",
)
case_created = _signals.signal(
    "case_created",
    doc="A case was opened. kwargs: case_number, case_type, org (unit code), form_key.",
)

case_transitioned = _signals.signal(
    "case_transitioned",
    doc="A case moved along its workflow. kwargs: case_number, action, from_state, to_state, "
    "actor (username or None).",
)
case_assigned = _signals.signal(
    "case_assigned",
    doc="A case was claimed, assigned or transferred. kwargs: case_number, assignee (username "
    "or None), org (unit code), actor.",
)
case_closed = _signals.signal(
    "case_closed",
    doc="A case reached a final state. kwargs: case_number, case_type, org, state.",
)
case_rated = _signals.signal(
    "case_rated",
    doc="A resident rated a closed case. kwargs: case_number, rating "
    "('satisfied' | 'basically_satisfied' | 'dissatisfied').",
)
case_escalated = _signals.signal(
    "case_escalated",
    doc="A case climbed the escalation ladder (网格 → 社区 → 街道 → 区县), by hand or because it "
    "was overdue. kwargs: case_number, org (code of the unit it escalated to), automatic (bool).",
)
case_notification = _signals.signal(
    "case_notification",
    doc="Someone should be told about a case (sent from the notification job, in a worker when "
    "Redis is configured; delivery — SMS, 政务微信 — is for plugins). kwargs: case_number, event "
    "(the action, e.g. 'urge', 'assign', 'summon'), message (Chinese text, no personal data), "
    "recipients (usernames; 'reporter' for the resident).",
)
user_created = _signals.signal(
    "user_created",
    doc="A staff account was created. kwargs: username, role, org (unit code).",
)
calendar_changed = _signals.signal(
    "calendar_changed",
    doc="The working-day calendar changed (seeded, a year imported, a day added or removed), "
    "so open working-day deadlines may need recomputing. kwargs: years (sorted list of ints "
    "whose days or completeness changed), org (unit code of the jurisdiction, None = national).",
)
org_moved = _signals.signal(
    "org_moved",
    doc="An org unit moved under another parent, with its whole subtree (codes stay, paths "
    "change). kwargs: org (unit code), old_parent (code), new_parent (code), old_path, new_path.",
)
org_renamed = _signals.signal(
    "org_renamed",
    doc="An org unit's name changed. kwargs: org (unit code), old_name, new_name.",
)

ALL = {
    s.name: s
    for s in (form_published, submission_received, case_created, case_transitioned,
              case_assigned, case_closed, case_rated, case_escalated, case_notification,
              user_created, calendar_changed, org_moved, org_renamed)
}


def send(signal, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once when none is open;
    never when it rolls back). A failing receiver is logged, never propagated."""
    after_commit(_deliver, current_app._get_current_object(), signal, kwargs)


def _deliver(app, signal, kwargs: dict) -> None:
    for receiver in signal.receivers_for(app):
        try:
            receiver(app, **kwargs)
        except Exception:  # a plugin's bug must not break the core's request
            log.exception("receiver %r of signal %s failed", receiver, signal.name)
