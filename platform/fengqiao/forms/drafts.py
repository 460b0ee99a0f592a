"""Half-filled forms a signed-in user saved to resume later (raw fields, not validated)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from fengqiao.db import db, utcnow
from fengqiao.models import FormDraftData

_SKIP = {"csrf_token", "_action", "_row"}


def save(version, user, posted: MultiDict) -> None:
    fields = {k: posted.getlist(k) for k in posted if k not in _SKIP}
    row = db.scalar(sa.select(FormDraftData).where(
        FormDraftData.form_id == version.form_id, FormDraftData.user_id == user.id))
    if row is None:
        row = FormDraftData(form_id=version.form_id, user_id=user.id, fields={}, version_number=version.number)
        db.add(row)
    row.fields, row.version_number, row.updated_at = fields, version.number, utcnow()


def load(form_id: int, user) -> MultiDict | None:
    if not user.is_authenticated:
        return None
    row = db.scalar(sa.select(FormDraftData).where(
        FormDraftData.form_id == form_id, FormDraftData.user_id == user.id))
    if row is None:
        return None
    return MultiDict([(k, v) for k, values in row.fields.items() for v in values])


def discard(form_id: int, user) -> None:
    db.execute(sa.delete(FormDraftData).where(
        FormDraftData.form_id == form_id, FormDraftData.user_id == user.id))
