"""Residents reached by SMS: only those who left a mobile and agreed to be contacted.

A form says where a resident's contact is with ``ui.contact``
(``{"mobile": "caller_mobile", "consent": "contact_consent"}``, checked with the other
definitions in ``fengqiao.forms.definition``). A case of such a form whose consent box is
ticked and whose mobile is present reaches its resident through every active channel with
``reaches_residents`` (the SMS channel): a public reply, a step whose transition has the
``notify`` effect (the pseudo-recipient ``reporter``) and the closure. The message says only
the case number, its state and the public note, with the /track link; it is masked like
every other delivery and waits out the unit's quiet hours. The recipient is looked up again
when the message is sent, so a case anonymised (or a consent withdrawn) in between gets
nothing.

This module only decides whether and where a resident is reached (the sender imports it);
``fengqiao.notifications.resident_updates`` writes and queues the messages, from the job
that :func:`queue_update` enqueues.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case
from fengqiao.models.audit import CaseAnonymisation
from fengqiao.notifications.protocol import Recipient

CONTACT_UI_KEY = "contact"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_NOTE = 120  # characters of the public note an SMS carries; the /track page has it all
CLOSED_KIND = "case.closed"


def contact_declaration(case: Case) -> dict | None:
    """The case's form's ``ui.contact`` (its own version's, else the latest version's)."""
    from fengqiao.forms.store import get_version

    if not case.form_key:
        return None
    for number in (case.form_version, None):
        version = get_version(case.form_key, number)
        mark = ((version.definition if version is not None else {}).get("ui") or {}).get(CONTACT_UI_KEY)
        if isinstance(mark, dict) and mark.get("mobile") and mark.get("consent"):
            return mark
    return None


def _anonymised(case_id: int) -> bool:
    return db.scalar(sa.select(CaseAnonymisation.case_id).where(CaseAnonymisation.case_id == case_id)) is not None


def resident_recipient(case_id: int) -> Recipient | None:
    """The resident of case ``case_id`` as an SMS recipient, or None (no mobile, no consent,
    no declaration on the form, or the case was anonymised)."""
    case = db.get(Case, case_id)
    if case is None or _anonymised(case_id):
        return None
    mark = contact_declaration(case)
    data = case.data if isinstance(case.data, dict) else {}
    if mark is None or data.get(mark["consent"]) is not True:
        return None
    mobile = data.get(mark["mobile"])
    if not isinstance(mobile, str) or not MOBILE.match(mobile):
        return None  # absent, or replaced by 「（已匿名化）」
    return Recipient("resident", "居民", mobile)


def track_link(case: Case) -> str:
    """The resident's /track page for the case (number and 查询码 filled in)."""
    return "/track?" + urlencode({"number": case.number, "code": case.tracking_code})


def queue_update(case_id: int, event_key: str, kind: str, event_id: int | None = None) -> None:
    """Tell the case's resident about ``event_key`` after the caller commits (the job
    ``notifications.resident`` in ``fengqiao.notifications.resident_updates``), once per
    event: a step's ``notify`` effect and its closure share the key of its history row."""
    from fengqiao.jobs import enqueue

    enqueue("notifications.resident", dedupe_key=f"resident:{event_key}", case_id=case_id, event_key=event_key,
            kind=kind, event_id=event_id)


def notify_closed(case_id: int, event_id: int) -> None:
    """The engine's hook when a case reaches a final state (its history row ``event_id``)."""
    queue_update(case_id, f"case-event:{event_id}", CLOSED_KIND, event_id)
