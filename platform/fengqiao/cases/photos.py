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

A field whose items say ``"contentMediaType": "*/*"`` is a *file* field: it takes any type
the form uploads accept (PDF, Word, Excel besides pictures), uploaded over the API with
``POST /api/v1/cases/<number>/files``; without it the field takes pictures only. Guard
``attachment_required`` (须有附件) counts only files claimed at this step through the step's own
photo/file fields — the report's photos never satisfy it (「此步骤须上传照片或附件」 at the
first such field).
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
STEP_FILES = "attachment_required"
STEP_FILES_MESSAGE = "此步骤须上传照片或附件"
ANY_TYPE = "*/*"  # contentMediaType of a file field: documents as well as pictures
MAX_STEP_FILES = 9  # per field when its schema sets no maxItems (the designer writes 9)


def is_file_field(prop: dict) -> bool:
    """A transition field that carries uploaded files (one id or an array of ids)."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    return prop.get("format") == "attachment" or items.get("format") == "attachment"


def takes_documents(prop: dict) -> bool:
    """A file field (``"contentMediaType": "*/*"`` on it or its items): any accepted upload
    type; otherwise a photo field (pictures only, as before)."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    return is_file_field(prop) and ANY_TYPE in (prop.get("contentMediaType"), items.get("contentMediaType"))


def file_fields(fields: dict | None) -> list[tuple[str, dict]]:
    """The step's photo/file fields, in the schema's order."""
    props = (fields or {}).get("properties", {}) if isinstance(fields, dict) else {}
    return [(key, prop) for key, prop in props.items() if isinstance(prop, dict) and is_file_field(prop)]


def takes_files(fields: dict | None) -> bool:
    """Whether a step's fields schema asks for files."""
    return bool(file_fields(fields))


def max_files(prop: dict) -> int:
    """How many files one field takes (a single-id field: one)."""
    if prop.get("type") != "array":
        return 1
    limit = prop.get("maxItems")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else MAX_STEP_FILES


def missing_message(fields: dict | None, pointer: str, code: str) -> str | None:
    """The Chinese message for a required photo/file field left empty (``required`` or
    ``minItems`` at ``/<key>``), naming the field; None for any other problem."""
    key = pointer.strip("/").split("/")[0]
    prop = dict(file_fields(fields)).get(key)
    if prop is None or code not in ("required", "minItems"):
        return None
    title = prop.get("title") or ("附件" if takes_documents(prop) else "照片")
    least = prop.get("minItems") if isinstance(prop.get("minItems"), int) else 1
    return f"请上传{title}" + (f"（至少 {least} 个）" if least > 1 else "")


def store(user, file: FileStorage, pointer: str = "/file", documents: bool = False) -> Attachment:
    """Store one photo (or, for a file field, ``documents``: any accepted type) through the
    upload checks, unclaimed until an action takes it (the engine's
    :func:`~fengqiao.cases.engine.upload_photo` decides whether the case wants one)."""
    saved = save_upload(file, pointer, images_only=not documents, user=user)
    if isinstance(saved, tuple):
        raise Invalid([saved])
    return saved


def _case_photo_count(case_id: int) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Attachment)
                     .join(Submission, Attachment.submission_id == Submission.id)
                     .where(Submission.case_id == case_id, Attachment.content_type.in_(IMAGE_TYPES))) or 0


def claim(s, transition, fields: dict) -> list[str]:
    """Link the files the step's fields name to the case; enforce ``before_after_photos``
    and ``attachment_required`` (only files named here count).

    Returns the claimed attachment ids (kept in the history row with the fields)."""
    schema = dict(file_fields(transition.fields))
    wanted: list[tuple[str, str]] = []
    documents: set[str] = set()  # pointers of files named by a file (not photo) field
    for key, prop in schema.items():
        if key not in fields:
            continue
        value = fields[key]
        ids = value if isinstance(value, list) else [value]
        named = [(f"/fields/{key}" + (f"/{i}" if isinstance(value, list) else ""), v) for i, v in enumerate(ids)]
        wanted += named
        if takes_documents(prop):
            documents.update(ptr for ptr, _ in named)
    if STEP_FILES in transition.guards and not wanted:
        raise Invalid([(f"/fields/{next(iter(schema))}" if schema else "", STEP_FILES_MESSAGE, STEP_FILES)])
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
    bad = [(ptr, f"{'文件' if ptr in documents else '照片'}无效或已被使用，请重新上传", "attachment")
           for ptr, v in wanted
           if v not in found or found[v].submission_id is not None or found[v].uploaded_by_id != s.user.id
           or (ptr not in documents and found[v].content_type not in IMAGE_TYPES)]
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
