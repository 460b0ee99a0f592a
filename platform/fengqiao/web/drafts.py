"""我的草稿: the signed-in user's half-filled forms, to resume or throw away.

Drafts belong to one account (``forms.drafts``): every query is scoped by user, so another
user's draft id is the same 404 as one that never existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import login_required
from fengqiao.db import db
from fengqiao.forms import drafts, store
from fengqiao.masking import marked_schema, mask_value
from fengqiao.models import Form
from fengqiao.params import page_limit
from fengqiao.plugins.state import is_active
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 30
PREVIEW_CHARS = 40


@dataclass(frozen=True)
class DraftRow:
    id: int
    key: str
    title: str
    updated_at: datetime
    preview: str  # the form's title field as typed so far, masked
    usable: bool  # False: the form was archived or its module switched off


def _row(draft, key: str, title: str, status: str, source: str) -> DraftRow:
    usable = status == "active" and not (source.startswith("plugin:") and not is_active(source.split(":", 1)[1]))
    preview = ""
    found = store.published(key) if usable else None
    if found is not None and found[1] is not None:
        definition = found[1].definition
        name = definition.get("title_field")
        typed = (draft.fields.get(name) or [""])[0] if name else ""
        if isinstance(typed, str) and typed.strip():
            node = (marked_schema(definition).get("properties") or {}).get(name) or {}
            preview = str(mask_value(node, typed.strip()))[:PREVIEW_CHARS]
    return DraftRow(draft.id, key, title, draft.updated_at, preview, usable)


@web_bp.get("/drafts")
@login_required
def drafts_list():
    user = current_user._get_current_object()
    found = drafts.page(user, request.args.get("cursor"), page_limit(PAGE_SIZE, 100))
    rows = [_row(*row) for row in found.items]
    return render_template("drafts.html", rows=rows, next_cursor=found.next_cursor)


@web_bp.get("/drafts/<int:draft_id>")
@login_required
def draft_open(draft_id: int):
    """Continue a draft: its form, filled in as saved, for the unit it was meant for."""
    row = drafts.own(current_user._get_current_object(), draft_id)
    form = db.get(Form, row.form_id)
    org = (row.fields.get("org") or [None])[0]
    return redirect(url_for("web.form_fill", key=form.key, draft=1, org=org or None))


@web_bp.post("/drafts/<int:draft_id>/delete")
@login_required
def draft_delete(draft_id: int):
    row = drafts.own(current_user._get_current_object(), draft_id)
    db.delete(row)
    flash("草稿已删除", "success")
    return redirect(url_for("web.drafts_list"))
