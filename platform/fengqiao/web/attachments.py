"""``/cases/<number>/attachments/<id>``: a case's file, after the same check as the case.

Only a case the user may see (``scope_for(user, "cases.view")``) serves its files; any other
combination is 404, so ids cannot be probed. Files always download (``attachment``) with the
type sniffed at upload and ``nosniff``: never rendered inline in the site's origin.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, send_file
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import queries
from fengqiao.cases.visibility import withheld_attachments
from fengqiao.db import db
from fengqiao.forms.uploads import upload_root
from fengqiao.models import Attachment, Submission
from fengqiao.orgs.scope import scope_for
from fengqiao.web.blueprint import web_bp

SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


@web_bp.get("/cases/<number>/attachments/<attachment_id>")
@requires("cases.view")
def case_attachment(number: str, attachment_id: str):
    case = queries.visible_case(number, scope_for(current_user, "cases.view"))
    if case is None:
        abort(404)
    attachment = db.scalar(
        sa.select(Attachment)
        .join(Submission, Attachment.submission_id == Submission.id)
        .where(Attachment.id == attachment_id, Submission.case_id == case.id)
    )
    if attachment is None or attachment.id in withheld_attachments(case, current_user._get_current_object()):
        abort(404)  # a file in a field hidden from the caller's unit (ui.hidden_from_handler) too
    root = upload_root().resolve()
    path = (root / attachment.storage_key).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    content_type = attachment.content_type
    if content_type not in SAFE_TYPES and not content_type.startswith("application/vnd.openxmlformats"):
        content_type = "application/octet-stream"
    response = send_file(path, mimetype=content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
