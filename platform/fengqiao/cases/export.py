"""Excel export of a case list: the same filters and scope as the list, personal data masked.

Numbers typed into titles are masked (:func:`mask_text`). An export (or a 台账) of ONE case
type also carries that type's form fields, one column per top-level field headed by its
Chinese title (:class:`FormFields`): a register that lacks the content cannot replace the
paper one. Those values go through the one masking layer exactly as the case page and the
submissions export show them (ID numbers, mobiles, ``ui.personal`` fields masked; fields the
form hides from the exporting user's unit, ``ui.hidden_from_handler``, as ``******``);
nested objects and repeatable groups are flattened into one text cell. An export of
several types keeps the fixed columns only. The route that calls this writes the export to
the audit log.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from fengqiao.cases.case_types import case_type
from fengqiao.cases.tracking import RATINGS
from fengqiao.cases.visibility import withheld
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exports import workbook_bytes
from fengqiao.forms import store
from fengqiao.forms.display import flat_row, with_marks
from fengqiao.forms.schema_tools import build_specs
from fengqiao.masking import hide, mask_text
from fengqiao.models import Case

HEADERS = ["事项编号", "标题", "类型", "状态", "所属单位", "办理人", "办理期限", "提交时间", "满意度"]
MAX_ROWS = 50_000  # larger ledgers go through a background job (case engine, later)
MAX_FORMS = 20  # forms one case type's cases came from (usually one)
PART_SEPARATOR = "；"
_TOP = re.compile(r"[.\[]")


def _top_fields(definition: dict) -> list[tuple[str, str]]:
    """(name, Chinese title) of a definition's top-level fields, in the form's order."""
    return [(spec.name, spec.label) for spec in build_specs(definition.get("schema") or {}, definition.get("ui") or {})]


class FormFields:
    """The form-field columns of one case type's export, and each case's masked values.

    Columns are the top-level fields of the latest published version of every form the
    exported cases came from; a case's values are read with its own version's labels and
    the marks of it and the latest (as :mod:`fengqiao.forms.display` does everywhere)."""

    def __init__(self, form_keys: list[str], user: Any):
        self.user = user
        self._versions: dict[tuple[str, int | None], tuple[dict, dict | None, dict[str, str]] | None] = {}
        columns: dict[str, str] = {}
        for key in form_keys:
            found = store.published(key)
            if found and found[1] is not None:
                for name, label in _top_fields(found[1].definition):
                    columns.setdefault(name, label)
        self.columns = list(columns.items())

    @property
    def headers(self) -> list[str]:
        return [label for _name, label in self.columns]

    def _version(self, form_key: str, number: int | None) -> tuple[dict, dict | None, dict[str, str]] | None:
        """(own definition, latest definition, top-level labels) of a submission's version."""
        key = (form_key, number)
        if key not in self._versions:
            found, latest = store.published(form_key, number), store.published(form_key)
            own = found[1].definition if found and found[1] is not None else None
            last = latest[1].definition if latest and latest[1] is not None else None
            self._versions[key] = None if own is None else (own, last, dict(_top_fields(own)))
        return self._versions[key]

    def values(self, case: Case) -> list[str]:
        """One cell per column: the masked text, nested parts joined as ``地址：…；…``."""
        version = self._version(case.form_key, case.form_version) if case.form_key else None
        if version is None or not self.columns:
            return [""] * len(self.columns)
        own, latest, labels = version
        data = case.data if isinstance(case.data, dict) else {}
        definition = with_marks(own, latest)
        hidden = withheld(self.user, case.org.path, data, own, latest)
        if hidden:
            definition = hide(definition, hidden)
        cells: dict[str, list[str]] = {}
        for path, (label, text) in flat_row(definition, data, marked=True).items():
            if text == "":
                continue
            name = _TOP.split(path, maxsplit=1)[0]
            if path == name:
                cells.setdefault(name, []).append(text)
            else:
                top = labels.get(name, "")
                part = label[len(top):].lstrip("·") if top and label.startswith(top) else label
                cells.setdefault(name, []).append(f"{part}：{text}")
        return [PART_SEPARATOR.join(cells.get(name, [])) for name, _label in self.columns]


def form_fields(type_: str | None, stmt: sa.Select, user: Any) -> FormFields | None:
    """The form-field columns when ``stmt`` (scoped, filtered cases) holds ONE case type."""
    if not type_:
        return None
    keys = db.scalars(stmt.with_only_columns(Case.form_key).where(Case.form_key.is_not(None))
                      .order_by(None).distinct().limit(MAX_FORMS)).all()
    return FormFields(sorted(keys), user)


def cases_workbook(stmt: sa.Select, title: str, *, type_: str | None = None, user: Any = None) -> bytes:
    """``stmt`` is a scoped, filtered case query (see ``cases.queries``); ``type_`` the one
    case type it is filtered to (its form fields are added, masked for ``user``)."""
    fields = form_fields(type_, stmt, user)
    rows = []
    for case in db.scalars(stmt.order_by(Case.id.desc()).limit(MAX_ROWS)).unique():
        ctype = case_type(case.type)
        rows.append([
            case.number, mask_text(case.title), ctype.title, ctype.state_title(case.state), case.org.name,
            case.assignee.label if case.assignee else "", case.deadline, case.created_at,
            RATINGS.get(case.rating or "", ""),
        ] + (fields.values(case) if fields else []))
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return workbook_bytes(f"{title}（导出于 {stamp}）", HEADERS + (fields.headers if fields else []), rows)
