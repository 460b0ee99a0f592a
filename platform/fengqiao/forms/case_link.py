"""Which case type (办理流程) a form's submissions open, as admins choose and save it.

A form names its case type in ``case_type``; ``opens_case: false`` makes it intake-only (仅登记)
and no case type applies; neither key means the generic 通用事项 workflow. An unknown key used
to fall back to 通用事项 silently (no deadline, the wrong handlers), so every admin path that
saves or publishes a definition (the designer, its 导入, 发布, ``fengqiao forms import``) checks
it here. Shipped files synced at start are not checked: their plugins' types load beside them.

An admin may choose the types that apply somewhere in their ``forms.manage`` scope: county-wide
ones, and those whose ``org`` lies within the scope or above it (cases/jurisdiction.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fengqiao.cases import case_types
from fengqiao.cases.workflow import GENERAL
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import CaseTypeDraft, Form, FormVersion, User

POINTER = "/case_type"
INTAKE_ONLY = "__intake__"  # the designer's select value for 「不建立事项（仅登记）」
MAX_LISTED = 30  # choices named in a refusal message


def _published_types() -> dict[str, Any]:
    """Key → latest ``CaseType`` of every published type (shipped or admin-made)."""
    found = {}
    for key in case_types.known_keys():
        ctype = case_types.case_type(key)
        if ctype.key == key:  # a key with only an unpublished draft falls back to 通用事项
            found[key] = ctype
    return found


def usable_types(user: User | None) -> list[tuple[str, str]]:
    """(key, title) of the types ``user`` may give a form, by key (all published ones for None:
    the command line, run by the operator); the case-type service decides the scope rule."""
    if user is None:
        return sorted((k, t.title) for k, t in _published_types().items())
    return sorted(case_types.types_for_scope(user))


def type_title(key: str | None) -> str:
    """A case type's title for the form diff (通用事项 for none; an unknown key as itself)."""
    if not key:
        return GENERAL.title
    ctype = case_types.case_type(key)
    return ctype.title if ctype.key == key else f"{key}（不存在）"


def choices(user: User | None) -> list[tuple[str, str]]:
    """What the designer's 事项类型 select offers, in order: the generic workflow, the usable
    types, then intake-only."""
    return [("", f"{GENERAL.title}（无专门流程）"), *usable_types(user), (INTAKE_ONLY, "不建立事项（仅登记）")]


def _listed(types: list[tuple[str, str]]) -> str:
    shown = "、".join(f"{k} {t}" for k, t in types[:MAX_LISTED])
    return (shown + ("等" if len(types) > MAX_LISTED else "")) or "无"


def problems(definition: Any, user: User | None) -> list[tuple[str, str, str]]:
    """Why ``definition``'s case type may not be saved by ``user`` (None: the command line);
    empty when it may."""
    if not isinstance(definition, dict) or definition.get("opens_case") is False:
        return []
    key = definition.get("case_type")
    if not isinstance(key, str) or not key or key == GENERAL.key:
        return []  # absent: 通用事项; a malformed value is the definition check's
    usable = usable_types(user)
    if key not in _published_types():
        if db.scalar(sa.select(CaseTypeDraft.id).where(CaseTypeDraft.key == key)) is not None:
            return [(POINTER, f"事项类型 {key} 尚未发布：请先在「事项类型」中发布它，再在表单中使用",
                     "case_type_draft")]
        return [(POINTER, f"事项类型 {key} 不存在（可选：{_listed(usable)}）", "case_type")]
    if key not in dict(usable):
        return [(POINTER, f"事项类型 {key} 不适用于您管理的单位（可选：{_listed(usable)}）", "case_type_scope")]
    return []


def require_usable(definition: Any, user: User | None) -> None:
    """:class:`Invalid` at ``/case_type`` unless ``user`` may save ``definition``'s case type."""
    found = problems(definition, user)
    if found:
        raise Invalid(found)


def forms_opening(key: str) -> list[tuple[Form, bool]]:
    """The active forms whose submissions open cases of ``key`` (form, published?): by the
    latest published version, or by the draft of a form being designed for it. Forms are
    few (tens), so they are read and looked at here rather than by JSON in SQL."""
    rows = db.execute(
        sa.select(Form, FormVersion.definition)
        .outerjoin(FormVersion, sa.and_(FormVersion.form_id == Form.id, FormVersion.number == Form.latest_version))
        .where(Form.status == "active").order_by(Form.key))
    found = []
    for form, published in rows:
        if isinstance(published, dict) and published.get("case_type") == key:
            found.append((form, True))
        elif isinstance(form.draft, dict) and form.draft.get("case_type") == key:
            found.append((form, False))
    return found
