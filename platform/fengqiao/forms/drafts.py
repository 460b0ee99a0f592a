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


def exists(form_id: int, user) -> bool:
    if not user.is_authenticated:
        return False
    return db.scalar(sa.select(FormDraftData.id).where(
        FormDraftData.form_id == form_id, FormDraftData.user_id == user.id)) is not None


def own(user, draft_id: int) -> FormDraftData:
    """The caller's draft ``draft_id``; another user's (or none) is the same 404."""
    from fengqiao.exceptions import NotFound

    row = db.scalar(sa.select(FormDraftData).where(
        FormDraftData.id == draft_id, FormDraftData.user_id == user.id))
    if row is None:
        raise NotFound()  # the one not-found message: never says whose it is
    return row


def page(user, cursor: str | None, limit: int):
    """The caller's drafts, newest first, as rows (draft, form key, form title, form status, source)."""
    from fengqiao.models import Form
    from fengqiao.pagination import keyset_page

    stmt = (sa.select(FormDraftData, Form.key, Form.title, Form.status, Form.source)
            .join(Form, Form.id == FormDraftData.form_id)
            .where(FormDraftData.user_id == user.id))
    return keyset_page(stmt, [FormDraftData.updated_at, FormDraftData.id], cursor, limit)


def count(user, cap: int = 99) -> int:
    """How many drafts the caller has, counted no further than ``cap + 1``."""
    inner = sa.select(FormDraftData.id).where(FormDraftData.user_id == user.id).limit(cap + 1).subquery()
    return db.scalar(sa.select(sa.func.count()).select_from(inner)) or 0
