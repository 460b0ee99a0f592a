"""Chinese labels for the codes a case carries, so that no page shows a raw code.

One place turns (form definition, field, value) into what staff read: the form's own
``oneOf`` titles first (an admin who renames a choice renames it everywhere), then the
tables below for the codes the core itself stores (SLA tiers, ratings, history keys). Pages
use the Jinja filters registered by :func:`init_labels` (``code_label``, ``field_title``,
``tier_label``) and :func:`change_rows` for a history row's changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fengqiao.db import LOCAL_TZ

# SLA tier values of the core's case types (a case's ``priority``), when a form gives none.
TIER_LABELS = {
    "urgent": "紧急", "normal": "一般", "complex": "复杂", "difficult": "疑难", "critical": "特急",
    "consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "suggestion": "建议",
    "enforcement": "综合执法", "livelihood": "民生保障", "emergency": "应急处置",
    "low": "低", "medium": "中", "high": "高",
}
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
BOOL_LABELS = {True: "是", False: "否"}

# Keys the core writes into a history row's ``changes`` → their titles. Keys not here and
# not a field of the action or the form are bookkeeping (codes, ids) and never shown.
CHANGE_TITLES = {
    "assignee": "办理人",
    "unit_name": "单位",
    "unit_names": "单位",
    "rating": "评价",
    "urge_count": "催办次数",
    "into": "并入事项",
    "case": "并入的事项",
    "checkin_due": "报到时限",
    "approved": "审批结果",
    "priority": "紧急程度",
    "step_name": "环节",  # a step's own limit (cases/steps.py)
    "step_due": "环节时限",
    "step_done": "完成环节",
    "step_late": "环节是否超时",
    "sla_stopped": "办理计时结束",
    "deadline": "办理期限",  # a workflow migration's recomputed clock (cases/case_types.py)
    "due_at": "考核期限",
    "limit": "办理时限",
}
# Values of ``changes`` keys that are codes of the core, per key.
CHANGE_VALUES = {
    "rating": RATING_LABELS,
    "approved": {True: "同意", False: "驳回"},
    "priority": TIER_LABELS,
    "step_late": {True: "已超时", False: "按时"},
    "sla_stopped": {"met": "按期", "missed": "超期"},
}
# Fields whose values are tier codes in the core's forms (a free-text field never is).
TIER_FIELDS = ("priority", "urgency", "request_type", "category", "risk_level", "tier")
EXTENSION_UNITS = {"hours": "小时", "working_days": "个工作日", "days": "天", "minutes": "分钟"}


def _properties(schema: dict | None) -> Iterable[tuple[str, dict]]:
    """Every (name, property schema) of ``schema``, nested objects and array items included."""
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        yield name, prop
        yield from _properties(prop)
        if isinstance(prop.get("items"), dict):
            yield from _properties(prop["items"])


def _schema_of(form: Any) -> dict | None:
    """A JSON Schema from a form definition (``{"schema": …}``) or a schema itself."""
    if not isinstance(form, dict):
        return None
    return form["schema"] if isinstance(form.get("schema"), dict) else form


def field_schema(form: Any, field: str | None) -> dict | None:
    """The property ``field`` of a form (top level first, else the first nested match)."""
    if not field:
        return None
    schema = _schema_of(form)
    top = (schema or {}).get("properties", {}).get(field) if schema else None
    if isinstance(top, dict):
        return top
    return next((prop for name, prop in _properties(schema) if name == field), None)


def _choice_title(prop: dict | None, value: Any) -> str | None:
    if not isinstance(prop, dict):
        return None
    if isinstance(prop.get("items"), dict) and isinstance(value, list):
        titles = [_choice_title(prop["items"], v) or str(v) for v in value]
        return "、".join(titles)
    for option in prop.get("oneOf") or prop.get("anyOf") or []:
        if isinstance(option, dict) and "const" in option and option["const"] == value:
            return str(option.get("title", value))
    return None


def code_label(value: Any, field: str | None = None, form: Any = None) -> str:
    """``value`` of ``field`` as staff should read it: the form's choice title, else a known
    label of the core (tiers, ratings), else the value itself (free text, numbers)."""
    if value is None or value == "":
        return ""
    table = CHANGE_VALUES.get(field or "") or (TIER_LABELS if field in TIER_FIELDS else None)
    if isinstance(value, bool):
        return table[value] if table and value in table else BOOL_LABELS[value]
    title = _choice_title(field_schema(form, field), value)
    if title is not None:
        return title
    if isinstance(value, list):
        return "、".join(code_label(v, field, form) for v in value)
    if table and value in table:
        return table[value]
    if field is None and isinstance(value, str) and (value in RATING_LABELS or value in TIER_LABELS):
        return RATING_LABELS.get(value) or TIER_LABELS[value]
    return str(value)


def field_title(field: str, form: Any = None, default: str | None = None) -> str | None:
    """The title of ``field`` in ``form`` (or the core's name for a history key), else
    ``default`` — never the key itself unless the caller passes it as the default."""
    prop = field_schema(form, field)
    if prop and prop.get("title"):
        return str(prop["title"])
    return CHANGE_TITLES.get(field, default)


def tier_label(ctype: Any, value: str | None, form: Any = None) -> str:
    """A case's SLA tier (``case.priority``) in Chinese: the title of that value in the
    type's SLA field of the form, else the known tier names."""
    if not value:
        return ""
    field = ((getattr(ctype, "sla", None) or {}).get("field")) if ctype is not None else None
    title = _choice_title(field_schema(form, field), value) if field else None
    return title or TIER_LABELS.get(value, value)


def _when(value: str) -> str | None:
    try:
        at = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at.tzinfo else at.strftime("%Y-%m-%d %H:%M")


# A step limit's span (cases/steps.py) in words: 「3 个工作日」, 「2 个工作小时」.
SPAN_UNITS = {"minutes": "分钟", "hours": "小时", "days": "天", "working_hours": "个工作小时",
              "working_days": "个工作日"}
STEP_KEYS = ("step_name", "step_due", "step_span")


def short_when(value: datetime | str | None) -> str:
    """A due time as a deadline reads on the case page: 「12月10日 17:00」 (Asia/Shanghai)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    at = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def span_text(span: Any) -> str:
    """``{"working_days": 3}`` → 「3 个工作日」; "" when not a span."""
    if not isinstance(span, dict) or len(span) != 1:
        return ""
    (unit, amount), = span.items()
    if unit not in SPAN_UNITS or isinstance(amount, bool) or not isinstance(amount, int | float):
        return ""
    return f"{amount:g} {SPAN_UNITS[unit]}"


def _step_row(changes: dict) -> tuple[str, str] | None:
    """The step a transition started: 「整改时限」, 「3 个工作日，截止 12月10日 17:00」."""
    name, due = changes.get("step_name"), short_when(changes.get("step_due"))
    if not name or not due:
        return None
    limit = span_text(changes.get("step_span"))
    return f"{name}时限", (f"{limit}，截止 {due}" if limit else f"截止 {due}")


def change_rows(changes: dict | None, action_fields: dict | None = None, form: Any = None,
                people: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """``[(title, text)]`` for a history row's ``changes``: each key under the title the
    action's field schema, the form or the core gives it, each value as a label.

    Keys without a title (unit codes, ids, internal markers) are left out, so no field key or
    code reaches the page. ``people`` maps usernames to names (the 办理人)."""
    if not isinstance(changes, dict):
        return []
    rows: list[tuple[str, str]] = []
    extension = "amount" in changes and changes.get("unit") in EXTENSION_UNITS
    if extension:  # an extension request/decision
        rows.append(("延长", f"{changes['amount']} {EXTENSION_UNITS[changes['unit']]}"))
    step = _step_row(changes)
    for key, value in changes.items():
        if step is not None and key in STEP_KEYS:
            if key == "step_name":
                rows.append(step)
            continue
        if key in ("unit", "units", "public") or (key == "amount" and extension) or value in (None, "", [], {}):
            continue  # (a dispute agreement's 协议金额 ``amount`` is a field like any other)
        if key == "unit_names" and "unit_name" in changes:
            continue
        prop = field_schema(action_fields, key)
        title = (prop or {}).get("title") or field_title(key, form)
        if not title:
            continue
        if key in ("deadline", "due_at") and not isinstance(value, dict):
            continue  # the overdue sweep's note of the deadline passed: the row's title says it
        if key in ("deadline", "due_at"):  # a migration's recomputed clock: times before → after
            before, after = _when(value.get("from") or "") or "无", _when(value.get("to") or "") or "无"
            text = f"{after}（未变）" if before == after else f"{before} → {after}"
        elif isinstance(value, dict) and ("from" in value or "to" in value) and value.get("from") == value.get("to"):
            text = f"{code_label(value.get('to'), key, form) or '—'}（确认无误）"  # confirmed as reported
        elif isinstance(value, dict) and ("from" in value or "to" in value):
            text = f"{code_label(value.get('from'), key, form) or '—'} → {code_label(value.get('to'), key, form) or '—'}"
        elif isinstance(value, dict):
            continue  # a structure (a limit, a state map): shown elsewhere in words, if at all
        elif prop and (prop.get("format") == "attachment" or (prop.get("items") or {}).get("format") == "attachment"):
            text = f"{len(value) if isinstance(value, list) else 1} 个附件"  # ids: the files are listed above
        elif key == "assignee" and people is not None:
            text = people.get(str(value), "")
        elif key in ("checkin_due", "step_due") and isinstance(value, str):
            text = _when(value) or ""
        else:
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # 3000 元, not 3000.0
            text = _choice_title(prop, value) if prop else None
            text = text or code_label(value, key, form)
        if text:
            rows.append((str(title), text))
    return rows


def init_labels(app) -> None:
    """Register the label filters for every template (core, themes and plugins)."""
    app.add_template_filter(code_label, "code_label")
    app.add_template_filter(tier_label, "tier_label")
    app.add_template_filter(field_title, "field_title")
