"""Remove uploads nobody claimed: files are stored as soon as a form is posted (so a
validation error loses nothing), and a resident who then walks away, or a script that posts
files and never submits, would otherwise fill the disk.

Anonymous uploads go after a day (a resident finishing the form later uploads again); a
signed-in user's stay a month, because a saved draft refers to them by id. A row still
unclaimed at delete time is deleted in the same statement that checks it, so a submission
claiming it at that moment either wins (the row stays) or meets 「附件无效，请重新上传」.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.forms.uploads import delete_stored
from fengqiao.jobs.registry import job, periodic
from fengqiao.models import Attachment
from fengqiao.transaction import after_commit

ANONYMOUS_KEEP = timedelta(days=1)
SIGNED_IN_KEEP = timedelta(days=30)
BATCH = 500


def _abandoned(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Attachment.submission_id.is_(None),
        sa.or_(
            sa.and_(Attachment.uploaded_by_id.is_(None), Attachment.created_at < now - ANONYMOUS_KEEP),
            Attachment.created_at < now - SIGNED_IN_KEEP,
        ),
    )


@job("uploads.prune_abandoned", queue="fengqiao-low")
def prune_abandoned(now: datetime | None = None) -> dict:
    """Delete unclaimed uploads past their keep time, rows first, then (after the job's
    commit) their files. Idempotent: a second run finds nothing."""
    now = now or utcnow()
    deleted = 0
    while True:
        batch = list(db.scalars(sa.select(Attachment.id).where(_abandoned(now)).limit(BATCH)))
        if not batch:
            return {"deleted": deleted}
        keys = list(db.scalars(
            sa.delete(Attachment).where(Attachment.id.in_(batch), _abandoned(now))
            .returning(Attachment.storage_key)))
        after_commit(delete_stored, keys)  # only once the rows are gone for good
        deleted += len(keys)


periodic("uploads.prune_abandoned", every=3600)
