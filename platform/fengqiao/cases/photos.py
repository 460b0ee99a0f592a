"""Photos taken at a workflow step (自行处置's "after" photo, a 反馈's result photos).

A transition asks for files with a field of ``"format": "attachment"`` (one id, or an array
of them), e.g. on 网格事件 ``self_handle``::

    "fields": {"type": "object", "properties": {"after_photos": {
        "type": "array", "title": "处置后照片", "maxItems": 6,
        "items": {"type": "string", "format": "attachment"}}}}

The file is uploaded first through the same checks as form uploads (``save_upload``: type
sniffed, images re-encoded, size and pixel limits) — on the case page with the action's
form, over the API with ``POST /api/v1/cases/<number>/photos`` — and is then claimed by the
action: it must be an unclaimed upload of the acting user; it is linked to the case (its
submission) and its id is kept in the step's history row. Guard ``before_after_photos``:
a photo from before the step — the report's own photos count, else the step's
``before_photos`` field — and at least one new photo in ``after_photos`` (any file field
other than ``before_photos``), added at this step.
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.forms.uploads import IMAGE_TYPES, save_upload
from fengqiao.models import Attachment, Submission

GUARD = "before_after_photos"
BEFORE, AFTER = "before_photos", "after_photos"  # the guard's field keys


def is_file_field(prop: dict) -> bool:
    """A transition field that carries uploaded files (one id or an array of ids)."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    return prop.get("format") == "attachment" or items.get("format") == "attachment"


def takes_files(fields: dict | None) -> bool:
    """Whether a step's fields schema asks for files."""
    return bool(fields) and any(is_file_field(p) for p in fields.get("properties", {}).values())


def store(user, file: FileStorage, pointer: str = "/file") -> Attachment:
    """Store one photo through the upload checks, unclaimed until an action takes it (the
    engine's :func:`~fengqiao.cases.engine.upload_photo` decides whether the case wants one)."""
    saved = save_upload(file, pointer, images_only=True, user=user)
    if isinstance(saved, tuple):
        raise Invalid([saved])
    return saved


def _case_photo_count(case_id: int) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Attachment)
                     .join(Submission, Attachment.submission_id == Submission.id)
                     .where(Submission.case_id == case_id, Attachment.content_type.in_(IMAGE_TYPES))) or 0


def claim(s, transition, fields: dict) -> list[str]:
    """Link the files the step's fields name to the case; enforce ``before_after_photos``.

    Returns the claimed attachment ids (kept in the history row with the fields)."""
    schema = (transition.fields or {}).get("properties", {})
    wanted: list[tuple[str, str]] = []
    for key, prop in schema.items():
        if not is_file_field(prop) or key not in fields:
            continue
        value = fields[key]
        ids = value if isinstance(value, list) else [value]
        wanted += [(f"/fields/{key}" + (f"/{i}" if isinstance(value, list) else ""), v) for i, v in enumerate(ids)]
    if GUARD in transition.guards:
        before = _case_photo_count(s.case.id) + sum(1 for ptr, _ in wanted if ptr.startswith(f"/fields/{BEFORE}"))
        after = [ptr for ptr, _ in wanted if not ptr.startswith(f"/fields/{BEFORE}")]
        if not before:
            raise Invalid([(f"/fields/{BEFORE}", "上报时未附现场照片，请补充处置前照片", GUARD)])
        if not after:
            raise Invalid([(f"/fields/{AFTER}", "请上传处置后照片", GUARD)])
    if not wanted:
        return []
    seen: set[str] = set()
    repeated = [(ptr, "同一张照片不能重复使用（处置前、处置后须为不同照片）", "attachment") for ptr, v in wanted
                if v in seen or seen.add(v)]
    if repeated:
        raise Invalid(repeated)
    found = {a.id: a for a in db.scalars(sa.select(Attachment).where(Attachment.id.in_([v for _, v in wanted])))}
    bad = [(ptr, "照片无效或已被使用，请重新上传", "attachment") for ptr, v in wanted
           if v not in found or found[v].submission_id is not None or found[v].uploaded_by_id != s.user.id
           or found[v].content_type not in IMAGE_TYPES]
    if bad:
        raise Invalid(bad)
    submission_id = db.scalar(sa.select(sa.func.min(Submission.id)).where(Submission.case_id == s.case.id))
    if submission_id is None:
        raise Invalid([("", "该事项没有登记记录，无法关联照片", "attachment")])
    ids = [v for _, v in wanted]
    done = db.execute(sa.update(Attachment).where(Attachment.id.in_(ids), Attachment.submission_id.is_(None))
                      .values(submission_id=submission_id).execution_options(synchronize_session=False))
    if done.rowcount != len(set(ids)):
        raise Invalid([(wanted[0][0], "照片无效或已被使用，请重新上传", "attachment")])
    return ids
