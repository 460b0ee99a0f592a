"""Forms: submit to a published form as residents do, read what was submitted.

A plugin ships form definitions in its ``form_definitions`` folder. A form opens a case in
the core's engine unless its definition says ``"opens_case": false``: an *intake-only* form,
whose submissions are stored and announced (``submission_received`` with ``case_number``
``None`` and the accepting unit's ``org``) for the plugin to keep as its own record — nothing
lands in ``/queues``.
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.sdk.errors import APIError, plugin_errors

__all__ = ["submission_data", "submit_form"]


@plugin_errors
def submit_form(form_key: str, data: dict, *, org: str | None = None, actor: str | None = None,
                channel: str = "api") -> dict:
    """Submit ``data`` to the latest published version of ``form_key`` as the core's own
    routes do (validation, case, history, signals), for the unit ``org`` (a code; else the
    actor's unit or the form's accepting unit). Returns ``{"case_number", "tracking_code",
    "submission_id"}`` (the first two ``None`` for an intake-only form). It does not commit: the
    request, job or command does, and the signals go out then. Raises ``ValidationFailed``
    with Chinese messages, ``APIError`` 404 for an unknown form."""
    from fengqiao.forms.store import published
    from fengqiao.forms.submit import submit
    from fengqiao.models import User

    found = published(form_key)
    if found is None:
        raise APIError(404, [("", f"表单 {form_key} 不存在或未发布", "unknown_form")])
    user = db.scalar(sa.select(User).where(User.username == actor)) if actor else None
    result = submit(found[1], data, user=user, channel=channel, org_code=org)
    return {"case_number": result.case_number, "tracking_code": result.tracking_code,
            "submission_id": result.submission_id}


def submission_data(submission_id: int) -> dict | None:
    """What was submitted (unmasked, as validated: for receivers and jobs, never for display);
    ``None`` for an unknown id. The one way to read an intake-only form's data."""
    from fengqiao.models import Submission

    if not isinstance(submission_id, int) or isinstance(submission_id, bool):
        return None
    return db.scalar(sa.select(Submission.data).where(Submission.id == submission_id))
