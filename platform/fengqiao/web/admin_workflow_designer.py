"""The no-code workflow designer: a case type's draft as tables (states, transitions, time
limits), its diagram redrawn beside them, and the JSON definition as an "advanced" tab.

The tables post as plain form rows (``states-0-key``, ``transitions-2-to`` …; see
``fengqiao.cases.workflow_tables``), so 添加一行 / 删除 work without JavaScript: the page is
shown again with the change and nothing typed is lost. ``static/workflow_designer.js`` does
the same in the browser, keeps the JSON tab in step and asks ``/admin/workflows/diagram``
for a new drawing. Saving is ``case_types.save_draft`` (which checks the definition and the
admin's jurisdiction); a refused save shows every problem beside its cell and in a list.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import case_types as service
from fengqiao.cases import workflow_tables as tables_mod
from fengqiao.cases.diagram import workflow_svg
from fengqiao.cases.workflow import (
    EFFECTS,
    GUARDS,
    NOTIFY_RECIPIENTS,
    ROLE_NAMES,
    SLA_EVENTS,
    SLA_NOTIFY_DEFAULTS,
    SLA_NOTIFY_RECIPIENTS,
    check_case_type,
    parse_case_type,
)
from fengqiao.cases.workflow_labels import (
    LABELS,
    LEVEL_LABELS,
    LIMIT_UNITS,
    SLA_EVENT_LABELS,
    STEP_UNITS,
    UNIT_LABELS,
    WAIT_UNITS,
)
from fengqiao.errors import http_status
from fengqiao.exceptions import Conflict, Invalid
from fengqiao.forms.definition import parse_definition_text
from fengqiao.web.blueprint import web_bp

MANAGE = service.MANAGE
MAX_DIAGRAM_BYTES = 256 * 1024  # a definition is a few kB; refuse anything far bigger unparsed
# What the script needs to read the tables exactly as cases/workflow_tables.py does.
_VOCAB = {"roles": ROLE_NAMES, "guards": GUARDS, "effects": EFFECTS, "notify": NOTIFY_RECIPIENTS,
          "levels": tables_mod.LEVELS,
          "limit": LIMIT_UNITS, "step": STEP_UNITS, "wait": WAIT_UNITS, "escalation": tables_mod.ESCALATION_LEVELS,
          "kinds": list(tables_mod.KINDS), "comment": tables_mod.COMMENT, "other": tables_mod.OTHER_LABEL,
          "sla_events": SLA_EVENTS, "sla_notify": SLA_NOTIFY_RECIPIENTS, "sla_defaults": SLA_NOTIFY_DEFAULTS}
# Cells inside a transition's 更多设置: a problem there opens it.
_MORE = re.compile(r"^transitions-(\d+)-(fields|levels|guards|effects|notify|step_|deadline_|public_note)")


def _stored(key: str, current) -> tuple[dict, Any]:
    """The definition the designer opens: the draft, else the current version."""
    draft = service.get_draft(key)
    return (draft.definition if draft is not None else current.definition), draft


def draw(definition: Any, title: str | None = None) -> tuple[str | None, list[tuple[str, str, str]]]:
    """The diagram of a definition being edited, and its problems. Drawn whenever it can be
    (a new state that nothing reaches yet still shows), None when its shape does not allow."""
    if not isinstance(definition, dict):
        return None, [("", "定义应为 JSON 对象", "type")]
    found = check_case_type(definition)
    try:
        ctype = parse_case_type(definition)
        svg = workflow_svg(ctype, title=title or f"{ctype.title}流程图（草稿）")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None, found or [("/workflow", "流程定义不完整，无法画出流程图", "shape")]
    return str(svg), found


def _problem_rows(problems, tables: dict, from_tables: bool = False) -> list[dict]:
    """Problems with the table cell each belongs to (input name), for the page."""
    rows = []
    for pointer, message, _code in problems:
        cell = pointer if from_tables else tables_mod.cell_of(pointer, tables)
        rows.append({"pointer": pointer, "cell": tables_mod.input_name(cell) if cell else "", "message": message})
    return rows


def _merge(table_rows: list[dict], check_rows: list[dict]) -> list[dict]:
    """Table problems first; a check's problem on a cell the tables already flagged is the
    same mistake seen twice (an unreadable number becomes a missing limit) and is dropped."""
    flagged = {r["cell"] for r in table_rows if r["cell"]}
    return table_rows + [r for r in check_rows if not r["cell"] or r["cell"] not in flagged]


def _page(key: str, current, draft, tables: dict, text: str, note: str, problems: list[dict],
          definition: Any, source: str = "tables", status: int = 200):
    errors: dict[str, list[str]] = {}
    for p in problems:
        if p["cell"]:
            errors.setdefault(p["cell"], []).append(p["message"])
    svg, _found = draw(definition, f"{tables.get('title') or key}流程图（草稿）")
    units = {"limit": LIMIT_UNITS, "step": STEP_UNITS, "wait": WAIT_UNITS}
    open_more = {int(m.group(1)) for name in errors if (m := _MORE.match(name))}
    blank_tables = {"states": [], "transitions": [{"name": "", "fields": []}]}
    blank = {"state": tables_mod.new_row(blank_tables, "states"),
             "transition": tables_mod.new_row(blank_tables, "transitions"),
             "field": tables_mod.new_row(blank_tables, "fields", 0),
             "tier": tables_mod.new_row(blank_tables, "tiers"),
             "escalation": tables_mod.new_row(blank_tables, "escalation")}
    for row in blank.values():  # the script gives a copied row its free key
        row.update({k: "" for k in ("key", "name") if k in row})
    return render_template(
        "admin/workflow_design.html", key=key, current=current, draft=draft, t=tables, text=text,
        note=note, problems=problems, errors=errors, diagram=svg, source=source, labels=LABELS,
        unit_labels=UNIT_LABELS, units=units, level_labels=LEVEL_LABELS, kinds=tables_mod.KINDS,
        other_kind=tables_mod.OTHER_LABEL, escalation_levels=tables_mod.ESCALATION_LEVELS,
        org_label=_org_label(tables.get("org") or ""), open_more=open_more, blank=blank,
        state_choices={s["key"]: s["title"] or s["key"] for s in tables["states"] if s["key"]},
        vocab=_VOCAB, sla_event_labels=SLA_EVENT_LABELS,
        guard_labels={g: label for g, label in LABELS["guards"].items() if g != tables_mod.COMMENT},
    ), status


def _org_label(code: str) -> str:
    if not code:
        return "全县（所有单位）"
    from fengqiao.orgs.service import get_by_code

    unit = get_by_code(code)
    return f"{unit.name}及其下级单位" if unit is not None else code


@web_bp.route("/admin/workflows/<key>/design", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_design(key: str):
    current = service.require_edit(current_user, key)  # another unit's type: 404; read-only: 403
    stored, draft = _stored(key, current)
    if request.method == "GET":
        text = json.dumps(stored, ensure_ascii=False, indent=2)
        return _page(key, current, draft, tables_mod.to_tables(stored), text, "", [], stored)
    form = request.form
    text, note = form.get("definition", ""), form.get("note", "")
    posted, bad_json = parse_definition_text(text, "definition")
    tables = tables_mod.tables_from_form(form)
    if tables_mod.apply_row_action(tables, form):  # 添加一行 / 删除 without JavaScript
        definition, _ = tables_mod.from_tables(tables, posted if isinstance(posted, dict) else stored)
        return _page(key, current, draft, tables, text, note, [], definition)
    if form.get("source") == "json":
        return _save_json(key, current, draft, tables, text, note, posted, bad_json)
    definition, found = tables_mod.from_tables(tables, posted if isinstance(posted, dict) else stored)
    definition["key"] = key
    if found:  # the tables' own problems and, all at once, what the check says besides
        problems = _merge(_problem_rows(found, tables, from_tables=True),
                          _problem_rows(check_case_type(definition), tables))
        return _page(key, current, draft, tables, text, note, problems, definition, status=422)
    try:
        service.save_draft(key, definition, current_user, note)
    except (Invalid, Conflict) as err:
        return _page(key, current, draft, tables, text, note, _problem_rows(err.problems, tables), definition,
                     status=http_status(err))
    flash("草稿已保存。发布后新事项才按此流程办理。", "success")
    return redirect(url_for("web.workflow_admin_design", key=key))


def _save_json(key, current, draft, tables, text, note, posted, bad_json):
    """The advanced tab: the JSON text is the definition (the tables are redrawn from it)."""
    if bad_json is not None:
        problems = [{"pointer": bad_json.pointer, "cell": "definition", "message": bad_json.message}]
        return _page(key, current, draft, tables, text, note, problems, None, source="json", status=422)
    shown = tables_mod.to_tables(posted)
    try:
        service.save_draft(key, posted, current_user, note)
    except (Invalid, Conflict) as err:
        return _page(key, current, draft, shown, text, note, _problem_rows(err.problems, shown), posted,
                     source="json", status=http_status(err))
    flash("草稿已保存（按 JSON）。发布后新事项才按此流程办理。", "success")
    return redirect(url_for("web.workflow_admin_design", key=key))


@web_bp.post("/admin/workflows/diagram")
@requires(MANAGE)
def workflow_admin_diagram():
    """The live redraw: ``{"definition": {...}}`` → ``{"svg", "problems"}`` (200 whenever it
    can be drawn, the problems listed beside it), 422 with the problems when it cannot."""
    if request.content_length is None or request.content_length > MAX_DIAGRAM_BYTES:
        return jsonify(problems=[{"pointer": "", "message": "定义过大或缺少长度（上限 256 KB）"}]), 413
    body = request.get_json(silent=True)
    definition = body.get("definition") if isinstance(body, dict) else None
    if not isinstance(definition, dict):
        return jsonify(problems=[{"pointer": "", "message": "请求应为 JSON：{\"definition\": {...}}"}]), 400
    svg, found = draw(definition)
    listed = [{"pointer": p, "message": m} for p, m, _ in found]
    if svg is None:
        return jsonify(problems=listed), 422
    return jsonify(svg=svg, problems=listed)
