"""A case type definition as editable tables, and back: the no-code workflow designer.

``to_tables`` turns a definition into rows of plain cell values (strings, booleans, lists of
codes) — what the designer page renders as inputs named after their place, e.g.
``transitions-2-to`` for ``tables["transitions"][2]["to"]``. ``from_tables`` merges edited
rows back into the definition they came from: every key the tables do not show (a step
limit's tiers, ``ends_step``, a field's ``description``, ``checkin``, ``org`` …) is carried
over untouched, so ``from_tables(to_tables(d), d) == d`` for every valid definition.

Each row remembers where it came from (``orig``: the index of its state or transition in the
base, or a step field's original name), so renaming a row keeps its hidden settings and a
renamed state's key follows into ``from``/``to``, ``initial`` and ``reopen_to``.

``sla.notify`` (who hears of 临期/超期/超期升级) shows each event's effective recipients
(``notify_due_soon`` …: the declared list, else the defaults); an event the definition leaves
out is written only when its ticks differ from the defaults. The form carries a marker input
``sla-notify`` so that a form without these pickers changes nothing, while one with every box
unticked declares ``[]`` (nobody).

"Pauses the clock" (暂停计时) is no stored flag: a state pauses when every transition into it
(from another state) has ``pause_sla`` and every transition out of it has ``resume_sla`` (or
``pause_sla``, when it goes into another pausing state) — how 挂账 and 补正 are declared.
Ticking it adds those effects to the transitions in and out; unticking a state that paused
removes them; otherwise the transitions' effects are left as they are.

``static/workflow_designer.js`` implements the same rules in the browser (keep them in step;
tests/browser/test_workflow_designer.py compares both). Pure functions: no Flask, no database.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from fengqiao.cases.workflow import (
    EFFECTS,
    GUARDS,
    NOTIFY_RECIPIENTS,
    ROLE_NAMES,
    SLA_EVENTS,
    SLA_NOTIFY_DEFAULTS,
    SLA_NOTIFY_RECIPIENTS,
)
from fengqiao.cases.workflow_labels import LIMIT_UNITS, STEP_UNITS, WAIT_UNITS
from fengqiao.params import parse_int

Problem = tuple[str, str, str]  # (table pointer such as /transitions/2/to, Chinese message, code)

LEVELS = ("county", "street", "community", "grid", "building")
ESCALATION_LEVELS = ("community", "street", "county")
COMMENT = "comment_required"  # shown as its own column (须填写意见), not among the guards
# Step field kinds (docs/cases.md, "Step fields"): label and the schema a new field gets.
KINDS = {"text": "文本", "textarea": "多行文本", "number": "数字", "date": "日期", "select": "选项",
         "photo": "照片", "file": "附件"}
OTHER = "other"  # a field the tables cannot describe (boolean, list of texts …): kept as it is
OTHER_LABEL = "其他（在 JSON 中修改）"
ATTACHMENT_KINDS = ("photo", "file")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FIELD_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
AUTO_PREFIX = {"states": "state", "transitions": "step", "fields": "field"}
TRUE_VALUES = ("y", "on", "1", "true")


# ---- definition -> tables ----------------------------------------------------------------


def _number_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return str(value)


def _limit_cells(limit: Any) -> tuple[str, str]:
    """(amount, unit) of a one-key limit such as {"working_days": 3}; blanks when absent."""
    if isinstance(limit, dict) and len(limit) == 1:
        unit, amount = next(iter(limit.items()))
        return _number_text(amount), str(unit)
    return "", ""


def choices_of(schema: Any) -> list[tuple[str, str]] | None:
    """(value, title) of a select field: ``oneOf`` of consts (what the form engine renders
    with titles) or a plain ``enum`` of strings; None when it is neither."""
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("oneOf"), list) and schema["oneOf"] and all(
            isinstance(o, dict) and isinstance(o.get("const"), str) for o in schema["oneOf"]):
        return [(o["const"], str(o.get("title", o["const"]))) for o in schema["oneOf"]]
    if isinstance(schema.get("enum"), list) and schema["enum"] and all(isinstance(v, str) for v in schema["enum"]):
        return [(v, v) for v in schema["enum"]]
    return None


def options_text(schema: Any) -> str:
    """One option a line: ``代码=名称``, or just the name when code and name are the same."""
    return "\n".join(v if v == t else f"{v}={t}" for v, t in choices_of(schema) or [])


def parse_options(text: str) -> list[tuple[str, str]]:
    out = []
    for line in (text or "").replace("\r", "").split("\n"):
        line = line.strip()
        if not line:
            continue
        value, sep, title = line.replace("＝", "=").partition("=")
        value, title = value.strip(), title.strip()
        out.append((value, title or value) if sep else (line, line))
    return out


def field_kind(schema: Any) -> str:
    """The designer's kind of a step field's schema, or ``other``."""
    if not isinstance(schema, dict):
        return OTHER
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and items.get("format") == "attachment":
            return "file" if "*/*" in (items.get("contentMediaType"), schema.get("contentMediaType")) else "photo"
        return OTHER
    if "enum" in schema or "oneOf" in schema:
        return "select" if kind == "string" and choices_of(schema) is not None else OTHER
    if "const" in schema:
        return OTHER
    if kind in ("number", "integer"):
        return "number"
    if kind == "string":
        if schema.get("format") == "date":
            return "date"
        if "format" not in schema:
            return "textarea" if schema.get("x-widget") == "textarea" else "text"
    return OTHER


def new_field_schema(kind: str, title: str, options: list[tuple[str, str]] = ()) -> dict:
    """The schema a field of ``kind`` gets (the shared design contract, §3)."""
    if kind == "text":
        return {"type": "string", "title": title, "maxLength": 200}
    if kind == "textarea":
        return {"type": "string", "title": title, "maxLength": 2000, "x-widget": "textarea"}
    if kind == "number":
        return {"type": "number", "title": title}
    if kind == "date":
        return {"type": "string", "format": "date", "title": title}
    if kind == "select":
        return {"type": "string", "title": title, "oneOf": [{"const": v, "title": t} for v, t in options]}
    if kind == "photo":
        return {"type": "array", "title": title, "items": {"type": "string", "format": "attachment"}, "maxItems": 9}
    if kind == "file":
        return {"type": "array", "title": title,
                "items": {"type": "string", "format": "attachment", "contentMediaType": "*/*"}, "maxItems": 9}
    raise ValueError(kind)


def _effects(t: dict) -> list:
    return t.get("effects") if isinstance(t.get("effects"), list) else []


def _sources(t: dict) -> list:
    return t.get("from") if isinstance(t.get("from"), list) else []


def _entering(key: str, transitions: list[dict]) -> list[dict]:
    return [t for t in transitions if t.get("to") == key and any(s != key for s in _sources(t))]


def _leaving(key: str, transitions: list[dict]) -> list[dict]:
    return [t for t in transitions if key in _sources(t) and t.get("to") != key]


def pauses_clock(key: str, transitions: list[dict]) -> bool:
    """Whether state ``key`` stops the case's clock (see the module's docstring)."""
    entering = _entering(key, transitions)
    return bool(entering) and all("pause_sla" in _effects(t) for t in entering) and all(
        "resume_sla" in _effects(t) or "pause_sla" in _effects(t) for t in _leaving(key, transitions))


def _list(value: Any) -> list:
    return [str(v) for v in value] if isinstance(value, list) else []


def to_tables(definition: dict) -> dict:
    """The definition's tables: every cell a string, boolean or list of codes."""
    d = definition if isinstance(definition, dict) else {}
    wf = d.get("workflow") if isinstance(d.get("workflow"), dict) else {}
    states = [s for s in wf.get("states") or [] if isinstance(s, dict)]
    transitions = [t for t in wf.get("transitions") or [] if isinstance(t, dict)]
    sla = d.get("sla") if isinstance(d.get("sla"), dict) else {}
    default_amount, default_unit = _limit_cells(sla.get("default"))
    tiers = sla.get("tiers") if isinstance(sla.get("tiers"), dict) else {}
    notify = sla.get("notify") if isinstance(sla.get("notify"), dict) else {}
    return {
        "title": str(d.get("title", "")), "prefix": str(d.get("prefix", "")),
        "description": str(d.get("description", "")), "org": str(d.get("org", "") or ""),
        "initial": str(wf.get("initial", "")),
        "sla": {
            "field": str(sla.get("field", "")),
            "default_amount": default_amount, "default_unit": default_unit or LIMIT_UNITS[0],
            "tiers": [dict(zip(("amount", "unit"), _limit_cells(limit), strict=True), value=str(value))
                      for value, limit in tiers.items()],
            "escalation": [
                {**dict(zip(("amount", "unit"), _limit_cells(step.get("after")), strict=True)),
                 "level": str(step.get("level", ""))}
                for step in sla.get("escalation") or [] if isinstance(step, dict)],
            **{f"notify_{event}": _list(notify[event]) if isinstance(notify.get(event), list)
               else list(SLA_NOTIFY_DEFAULTS[event]) for event in SLA_EVENTS},
        },
        "states": [{"orig": str(i), "key": str(s.get("key", "")), "title": str(s.get("title", "")),
                    "final": bool(s.get("final")), "pauses": pauses_clock(s.get("key"), transitions)}
                   for i, s in enumerate(states)],
        "transitions": [_transition_row(i, t) for i, t in enumerate(transitions)],
    }


def _transition_row(i: int, t: dict) -> dict:
    step = t.get("step_limit") if isinstance(t.get("step_limit"), dict) else {}
    step_amount, step_unit = _limit_cells(step.get("default"))
    deadline_amount, deadline_unit = _limit_cells(t.get("deadline"))
    fields = t.get("fields") if isinstance(t.get("fields"), dict) else {}
    props = fields.get("properties") if isinstance(fields.get("properties"), dict) else {}
    required = _list(fields.get("required"))
    guards = _list(t.get("guards"))
    return {
        "orig": str(i), "name": str(t.get("name", "")), "title": str(t.get("title", "")),
        "from": _list(t.get("from")), "to": str(t.get("to", "")),
        "roles": _list(t.get("roles")), "levels": _list(t.get("levels")),
        "guards": [g for g in guards if g != COMMENT], "comment": COMMENT in guards,
        "effects": _list(t.get("effects")), "notify": _list(t.get("notify")),
        "step_title": str(step.get("title", "")), "step_amount": step_amount,
        "step_unit": step_unit or STEP_UNITS[0],
        "deadline_amount": deadline_amount, "deadline_unit": deadline_unit or LIMIT_UNITS[0],
        "public_note": str(t.get("public_note", "")),
        "fields": [{"orig": name, "name": name,
                    "title": str(p.get("title", "")) if isinstance(p, dict) else "",
                    "kind": field_kind(p), "required": name in required,
                    "options": options_text(p) if field_kind(p) == "select" else ""}
                   for name, p in props.items()],
    }


# ---- posted form <-> tables --------------------------------------------------------------


def _indices(names: Iterable[str], prefix: str) -> list[int]:
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)-")
    return sorted({int(m.group(1)) for n in names if (m := pattern.match(n))})


def tables_from_form(form) -> dict:
    """The tables as posted (a werkzeug MultiDict or anything with get/getlist/keys); rows in
    the order of their indices, renumbered from 0."""
    names = list(form.keys())

    def text(name: str) -> str:
        return str(form.get(name) or "")

    def flag(name: str) -> bool:
        return text(name).strip().lower() in TRUE_VALUES

    def codes(name: str) -> list[str]:
        return [v for v in form.getlist(name) if v]

    def cells(prefix: str, spec: dict) -> list[dict]:
        return [{col: kind(f"{prefix}-{i}-{col}") for col, kind in spec.items()} for i in _indices(names, prefix)]

    tables = {k: text(k) for k in ("title", "prefix", "description", "org", "initial")}
    tables["sla"] = {"field": text("sla-field"), "default_amount": text("sla-default_amount"),
                     "default_unit": text("sla-default_unit"),
                     "tiers": cells("sla-tiers", {"value": text, "amount": text, "unit": text}),
                     "escalation": cells("sla-escalation", {"amount": text, "unit": text, "level": text})}
    if "sla-notify" in names:  # the pickers were on the page (see the module's docstring)
        tables["sla"].update({f"notify_{event}": codes(f"sla-notify_{event}") for event in SLA_EVENTS})
    tables["states"] = cells("states", {"orig": text, "key": text, "title": text, "final": flag, "pauses": flag})
    spec = {"orig": text, "name": text, "title": text, "from": codes, "to": text, "roles": codes, "levels": codes,
            "guards": codes, "comment": flag, "effects": codes, "notify": codes, "step_title": text,
            "step_amount": text, "step_unit": text, "deadline_amount": text, "deadline_unit": text,
            "public_note": text}
    tables["transitions"] = []
    for i in _indices(names, "transitions"):
        row = {col: kind(f"transitions-{i}-{col}") for col, kind in spec.items()}
        row["fields"] = cells(f"transitions-{i}-fields", {"orig": text, "name": text, "title": text, "kind": text,
                                                           "required": flag, "options": text})
        tables["transitions"].append(row)
    return tables


def flatten(tables: dict) -> list[tuple[str, str]]:
    """(input name, value) pairs a browser posts for ``tables`` (unticked boxes absent)."""
    out: list[tuple[str, str]] = []

    def put(name: str, value: Any) -> None:
        if isinstance(value, bool):
            if value:
                out.append((name, "y"))
        elif isinstance(value, list):
            out.extend((name, v) for v in value)
        else:
            out.append((name, value))

    for key in ("title", "prefix", "description", "org", "initial"):
        put(key, tables.get(key, ""))
    sla = tables.get("sla", {})
    for key in ("field", "default_amount", "default_unit"):
        put(f"sla-{key}", sla.get(key, ""))
    for table in ("tiers", "escalation"):
        for i, row in enumerate(sla.get(table, [])):
            for col, value in row.items():
                put(f"sla-{table}-{i}-{col}", value)
    if any(f"notify_{event}" in sla for event in SLA_EVENTS):
        put("sla-notify", "y")
        for event in SLA_EVENTS:
            put(f"sla-notify_{event}", sla.get(f"notify_{event}", []))
    for i, row in enumerate(tables.get("states", [])):
        for col, value in row.items():
            put(f"states-{i}-{col}", value)
    for i, row in enumerate(tables.get("transitions", [])):
        for col, value in row.items():
            if col == "fields":
                for j, field_row in enumerate(value):
                    for c, v in field_row.items():
                        put(f"transitions-{i}-fields-{j}-{c}", v)
            else:
                put(f"transitions-{i}-{col}", value)
    return out


def _free_key(prefix: str, taken: Iterable[str]) -> str:
    used, n = set(taken), 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def new_row(tables: dict, table: str, transition: int | None = None) -> dict:
    """A blank row for ``table`` (states, transitions, fields of a transition, tiers,
    escalation) with a free key, so other rows can refer to it at once."""
    if table == "states":
        return {"orig": "", "key": _free_key("state", [s["key"] for s in tables["states"]]), "title": "",
                "final": False, "pauses": False}
    if table == "transitions":
        return {"orig": "", "name": _free_key("step", [t["name"] for t in tables["transitions"]]), "title": "",
                "from": [], "to": "", "roles": [], "levels": [], "guards": [], "comment": False, "effects": [],
                "notify": [], "step_title": "", "step_amount": "", "step_unit": STEP_UNITS[0], "deadline_amount": "",
                "deadline_unit": LIMIT_UNITS[0], "public_note": "", "fields": []}
    if table == "fields":
        rows = tables["transitions"][transition]["fields"]
        return {"orig": "", "name": _free_key("field", [f["name"] for f in rows]), "title": "", "kind": "text",
                "required": False, "options": ""}
    if table == "tiers":
        return {"value": "", "amount": "", "unit": LIMIT_UNITS[0]}
    if table == "escalation":
        return {"amount": "", "unit": WAIT_UNITS[0], "level": ""}
    raise ValueError(table)


ACTIONS = {"add_state": "states", "add_transition": "transitions", "add_field": "fields",
           "add_tier": "tiers", "add_escalation": "escalation"}
_REMOVE = re.compile(r"^remove-(states|transitions|sla-tiers|sla-escalation)-(\d+)(?:-fields-(\d+))?$")


def apply_row_action(tables: dict, form) -> bool:
    """Carry out an 添加一行 / 删除 button of the page without JavaScript (the form's submit
    buttons ``add_state``, ``add_field=<transition index>``, ``remove-transitions-2`` …).
    Whether one was pressed: the page is then shown again, nothing saved or lost."""
    for name, table in ACTIONS.items():
        if name not in form:
            continue
        if table == "fields":
            i = _index(form.get(name), len(tables["transitions"]))
            if i is not None:
                tables["transitions"][i]["fields"].append(new_row(tables, "fields", i))
        elif table in ("tiers", "escalation"):
            tables["sla"][table].append(new_row(tables, table))
        else:
            tables[table].append(new_row(tables, table))
        return True
    for name in form.keys():
        match = _REMOVE.match(name)
        if not match:
            continue
        table, i, j = match.group(1), int(match.group(2)), match.group(3)
        rows = tables["sla"][table[4:]] if table.startswith("sla-") else tables[table]
        if j is not None and table == "transitions" and i < len(rows):
            rows = rows[i]["fields"]
            i = int(j)
        if i < len(rows):
            del rows[i]
        return True
    return False


def _index(raw: Any, size: int) -> int | None:
    """A row's index into a list of ``size`` (digits only), else None."""
    return parse_int(raw if isinstance(raw, str) else str(raw), None, maximum=size - 1) if size else None


# ---- tables -> definition ----------------------------------------------------------------


def parse_amount(text: str) -> int | float | None | str:
    """A limit's amount: int for whole numbers, float with a decimal point, None when blank;
    anything else comes back as the text (the caller reports it). The script reads alike."""
    raw = (text or "").strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    if re.fullmatch(r"\d+\.\d*|\.\d+", raw):
        return float(raw)
    return raw


def _ordered(chosen: list[str], base: Any, canonical: Iterable[str]) -> list[str]:
    """``chosen`` in the base's order (so an untouched list is unchanged), new ones after in
    the canonical order."""
    wanted = dict.fromkeys(chosen)
    out = [v for v in (base if isinstance(base, list) else []) if v in wanted]
    seen = set(out)
    for v in [*canonical, *chosen]:
        if v in wanted and v not in seen:
            out.append(v)
            seen.add(v)
    return out


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, (str, list, dict)) and not value)


def _put(target: dict, key: str, value: Any) -> None:
    """Set ``value``, or drop the key when it is empty — unless the base had it just as
    empty (``"effects": []``, ``"final": false``): then it stays as it was."""
    if not _empty(value):
        target[key] = value
    elif not (key in target and target[key] == value and type(target[key]) is type(value)):
        target.pop(key, None)


class _Builder:
    def __init__(self, tables: dict, base: dict) -> None:
        self.tables = tables
        self.base = copy.deepcopy(base) if isinstance(base, dict) else {}
        self.problems: list[Problem] = []

    def problem(self, pointer: str, message: str, code: str) -> None:
        self.problems.append((pointer, message, code))

    def limit(self, pointer: str, where: str, amount: str, unit: str, units: tuple[str, ...]) -> dict | None:
        """A one-unit limit from an amount cell (``<pointer>_amount`` or ``…/amount``) and its
        unit cell; None when the amount is blank or a problem was recorded."""
        amount_cell, unit_cell = ((f"{pointer}/amount", f"{pointer}/unit") if not pointer.endswith("_")
                                  else (f"{pointer}amount", f"{pointer}unit"))
        value = parse_amount(amount)
        if value is None:
            return None
        if isinstance(value, str):
            self.problem(amount_cell, f"{where}：「{value}」不是有效的数字", "number")
            return None
        if unit not in units:
            self.problem(unit_cell, f"{where}：请选择时限单位", "unit")
            return None
        return {unit: value}

    def has_problem(self, prefix: str) -> bool:
        return any(p[0].startswith(prefix) for p in self.problems)


def from_tables(tables: dict, base_definition: dict) -> tuple[dict, list[Problem]]:
    """The definition the edited tables describe, merged into ``base_definition``, and the
    problems only the tables can see (unreadable numbers, bad field names …) as table
    pointers. Everything else — unknown states, missing roles — is check_case_type's job."""
    b = _Builder(tables, base_definition)
    d = b.base
    base_wf = d.get("workflow") if isinstance(d.get("workflow"), dict) else {}
    base_states = [s if isinstance(s, dict) else {} for s in base_wf.get("states") or []]
    base_transitions = [t if isinstance(t, dict) else {} for t in base_wf.get("transitions") or []]

    for key in ("title", "prefix"):
        d[key] = str(tables.get(key, "")).strip()
    _put(d, "description", str(tables.get("description", "")).strip())
    _build_sla(b, d)

    states, renamed = [], {}
    for i, row in enumerate(tables.get("states", [])):
        orig = _index(row.get("orig"), len(base_states))
        state = copy.deepcopy(base_states[orig]) if orig is not None else {}
        key = str(row.get("key", "")).strip()
        if key and orig is not None and base_states[orig].get("key") not in (None, "", key):
            renamed[base_states[orig]["key"]] = key
        state["key"], state["title"] = key, str(row.get("title", "")).strip()
        _put(state, "final", bool(row.get("final")))
        states.append(state)
        if not key:
            b.problem(f"/states/{i}/key", f"状态第 {i + 1} 行：请填写标识（英文小写字母开头）", "required")

    def follow(key: str) -> str:
        return renamed.get(key, key) if key else key

    state_order = [s["key"] for s in states]
    transitions = []
    for i, row in enumerate(tables.get("transitions", [])):
        orig = _index(row.get("orig"), len(base_transitions))
        transitions.append(_build_transition(b, i, row, base_transitions[orig] if orig is not None else {},
                                             follow, state_order))
    _apply_pauses(tables, base_states, base_transitions, transitions)

    wf = base_wf
    wf["initial"] = follow(str(tables.get("initial", "")).strip())
    wf["states"], wf["transitions"] = states, transitions
    d["workflow"] = wf
    if isinstance(d.get("reopen_to"), str):
        d["reopen_to"] = follow(d["reopen_to"])
    return d, b.problems


def _build_sla(b: _Builder, d: dict) -> None:
    rows = b.tables.get("sla", {})
    sla = d.get("sla") if isinstance(d.get("sla"), dict) else {}
    _put(sla, "field", str(rows.get("field", "")).strip())
    tiers: dict[str, dict] = {}
    for i, row in enumerate(rows.get("tiers", [])):
        value = str(row.get("value", "")).strip()
        where = f"分级时限第 {i + 1} 行"
        limit = b.limit(f"/sla/tiers/{i}", where, row.get("amount", ""), row.get("unit", ""), LIMIT_UNITS)
        if not value:
            if limit is not None or b.has_problem(f"/sla/tiers/{i}/"):
                b.problem(f"/sla/tiers/{i}/value", f"{where}：请填写档位（字段的取值，如 urgent）", "required")
            continue
        if value in tiers:
            b.problem(f"/sla/tiers/{i}/value", f"{where}：档位 {value} 重复", "unique")
        elif limit is None and not b.has_problem(f"/sla/tiers/{i}/"):
            b.problem(f"/sla/tiers/{i}/amount", f"{where}：请填写时限", "required")
        if limit is not None and value not in tiers:
            tiers[value] = limit
    _put(sla, "tiers", tiers)
    _put(sla, "default", b.limit("/sla/default_", "默认时限", rows.get("default_amount", ""),
                                 rows.get("default_unit", ""), LIMIT_UNITS))
    ladder = []
    for i, row in enumerate(rows.get("escalation", [])):
        where = f"逾期升级第 {i + 1} 行"
        after = b.limit(f"/sla/escalation/{i}", where, row.get("amount", ""), row.get("unit", ""), WAIT_UNITS)
        level = str(row.get("level", "")).strip()
        if after is None and not level:
            continue
        if level not in ESCALATION_LEVELS:
            b.problem(f"/sla/escalation/{i}/level", f"{where}：请选择升级到哪一级", "required")
        if after is None and not b.has_problem(f"/sla/escalation/{i}/"):
            b.problem(f"/sla/escalation/{i}/amount", f"{where}：请填写超期多久后升级（0 表示一超期即升级）",
                      "required")
        ladder.append({"after": after or {}, "level": level})
    _put(sla, "escalation", ladder)
    _build_sla_notify(rows, sla)
    if sla:
        d["sla"] = sla
    else:
        d.pop("sla", None)


def _build_sla_notify(rows: dict, sla: dict) -> None:
    """``sla.notify`` from the pickers: an event stays undeclared while its ticks are the
    defaults; a declared one keeps its order (new ticks after)."""
    base = sla.get("notify") if isinstance(sla.get("notify"), dict) else None
    notify = dict(base) if base is not None else {}
    for event in SLA_EVENTS:
        chosen = rows.get(f"notify_{event}")
        if not isinstance(chosen, list):
            continue
        declared = notify.get(event) if isinstance(notify.get(event), list) else None
        if declared is None and set(chosen) == set(SLA_NOTIFY_DEFAULTS[event]):
            continue
        notify[event] = _ordered([str(c) for c in chosen], declared if declared is not None
                                 else list(SLA_NOTIFY_DEFAULTS[event]), SLA_NOTIFY_RECIPIENTS)
    if notify or base is not None:
        sla["notify"] = notify


def _build_transition(b: _Builder, i: int, row: dict, base: dict, follow, state_order: list[str]) -> dict:
    t = copy.deepcopy(base)
    where = f"流转第 {i + 1} 行"
    t["name"], t["title"] = str(row.get("name", "")).strip(), str(row.get("title", "")).strip()
    sources = [follow(s) for s in row.get("from", [])]
    t["from"] = _ordered(sources, base.get("from"), state_order)
    t["to"] = follow(str(row.get("to", "")).strip())
    t["roles"] = _ordered(list(row.get("roles", [])), base.get("roles"), ROLE_NAMES)
    _put(t, "levels", _ordered(list(row.get("levels", [])), base.get("levels"), LEVELS))
    guards = [g for g in row.get("guards", []) if g != COMMENT] + ([COMMENT] if row.get("comment") else [])
    _put(t, "guards", _ordered(guards, base.get("guards"), GUARDS))
    _put(t, "effects", _ordered(list(row.get("effects", [])), base.get("effects"), EFFECTS))
    _put(t, "notify", _ordered(list(row.get("notify", [])), base.get("notify"), NOTIFY_RECIPIENTS))
    step_title = str(row.get("step_title", "")).strip()
    step = b.limit(f"/transitions/{i}/step_", f"{where}「下一步时限」", row.get("step_amount", ""),
                   row.get("step_unit", ""), STEP_UNITS)
    if step_title or step is not None or str(row.get("step_amount", "")).strip():
        step_limit = copy.deepcopy(base["step_limit"]) if isinstance(base.get("step_limit"), dict) else {}
        step_limit["title"] = step_title
        _put(step_limit, "default", step)
        t["step_limit"] = step_limit
        if not step_title:
            b.problem(f"/transitions/{i}/step_title", f"{where}：下一步时限需要名称（如「整改」）", "required")
        elif step is None and not b.has_problem(f"/transitions/{i}/step_"):
            b.problem(f"/transitions/{i}/step_amount", f"{where}：请填写下一步时限「{step_title}」的时长", "required")
    else:
        t.pop("step_limit", None)
    _put(t, "deadline", b.limit(f"/transitions/{i}/deadline_", f"{where}「重新计时」", row.get("deadline_amount", ""),
                                row.get("deadline_unit", ""), LIMIT_UNITS))
    _put(t, "public_note", str(row.get("public_note", "")).strip())
    _build_fields(b, i, row.get("fields", []), t, base)
    _add_effect_fields(t)
    return t


# The field an effect reads, added when the admin ticks the effect and the step has no such
# field yet (the case page offers the units the actor may route to): 分派 needs no JSON.
EFFECT_FIELDS = {
    "dispatch": ("unit", {"type": "string", "title": "承办单位", "minLength": 1, "maxLength": 32}),
    "summon": ("units", {"type": "array", "title": "吹哨通知的部门", "minItems": 1, "maxItems": 10,
                         "uniqueItems": True, "items": {"type": "string", "minLength": 1, "maxLength": 32}}),
}


def _add_effect_fields(t: dict) -> None:
    for effect, (name, schema) in EFFECT_FIELDS.items():
        if effect not in _effects(t):
            continue
        fields = t.get("fields") if isinstance(t.get("fields"), dict) else {"type": "object", "additionalProperties": False}
        props = fields.get("properties") if isinstance(fields.get("properties"), dict) else {}
        if name in props:
            continue
        fields["properties"] = {**props, name: copy.deepcopy(schema)}
        fields["required"] = [*_list(fields.get("required")), name]
        t["fields"] = fields


def _build_fields(b: _Builder, i: int, rows: list[dict], t: dict, base: dict) -> None:
    base_fields = base.get("fields") if isinstance(base.get("fields"), dict) else None
    base_props = (base_fields or {}).get("properties")
    base_props = base_props if isinstance(base_props, dict) else {}
    base_required = _list((base_fields or {}).get("required"))
    if not rows:
        if base_fields is None or not base_props:
            return
        t.pop("fields", None)
        return
    props, required, names = {}, [], set()
    renamed = {}
    for j, row in enumerate(rows):
        where = f"流转第 {i + 1} 行的字段第 {j + 1} 行"
        pointer = f"/transitions/{i}/fields/{j}"
        name, title = str(row.get("name", "")).strip(), str(row.get("title", "")).strip()
        kind = str(row.get("kind", "")).strip()
        orig = str(row.get("orig", ""))
        base_prop = base_props.get(orig) if orig else None
        if orig and orig in base_props and orig != name:
            renamed[orig] = name
        if not FIELD_PATTERN.match(name):
            b.problem(f"{pointer}/name", f"{where}：标识只能包含英文字母、数字和下划线，且须以字母开头", "pattern")
        elif name in names:
            b.problem(f"{pointer}/name", f"{where}：标识 {name} 重复", "unique")
        names.add(name)
        if not title:
            b.problem(f"{pointer}/title", f"{where}：请填写字段名称", "required")
        options = parse_options(row.get("options", ""))
        if kind == "select":
            values = [v for v, _ in options]
            if not options:
                b.problem(f"{pointer}/options", f"{where}：选项字段至少要有一个选项（每行一个）", "required")
            elif len(set(values)) != len(values):
                b.problem(f"{pointer}/options", f"{where}：选项代码重复", "unique")
        if base_prop is not None and kind == field_kind(base_prop):
            prop = copy.deepcopy(base_prop)
            prop["title"] = title
            if kind == "select" and options_text(base_prop) != "\n".join(
                    v if v == t_ else f"{v}={t_}" for v, t_ in options):
                for key in ("enum", "x-enum-titles"):
                    prop.pop(key, None)
                prop["oneOf"] = [{"const": v, "title": t_} for v, t_ in options]
        elif kind in KINDS:
            prop = new_field_schema(kind, title, options)
            if isinstance(base_prop, dict) and isinstance(base_prop.get("description"), str):
                prop["description"] = base_prop["description"]
        else:
            b.problem(f"{pointer}/kind", f"{where}：请选择字段类型", "required")
            prop = copy.deepcopy(base_prop) if isinstance(base_prop, dict) else {"title": title}
        is_required = bool(row.get("required"))
        if kind in ATTACHMENT_KINDS and isinstance(prop, dict):
            if is_required and not (isinstance(prop.get("minItems"), int) and prop["minItems"] >= 1):
                prop["minItems"] = 1
            elif not is_required and orig in base_required and prop.get("minItems") == 1:
                prop.pop("minItems")
        if name:
            props[name] = prop
            if is_required:
                required.append(name)
    fields = copy.deepcopy(base_fields) if base_fields is not None else {"type": "object"}
    fields["properties"] = props
    _put(fields, "required", _ordered(required, [renamed.get(n, n) for n in base_required], list(props)))
    if base_fields is None:
        fields["additionalProperties"] = False
    t["fields"] = fields


def _apply_pauses(tables: dict, base_states: list[dict], base_transitions: list[dict],
                  transitions: list[dict]) -> None:
    pausing = {str(r.get("key", "")).strip() for r in tables.get("states", []) if r.get("pauses")}
    for row in tables.get("states", []):
        key = str(row.get("key", "")).strip()
        orig = _index(row.get("orig"), len(base_states))
        paused_before = orig is not None and pauses_clock(base_states[orig].get("key"), base_transitions)
        if row.get("pauses"):
            for t in _entering(key, transitions):
                _add_effect(t, "pause_sla")
            for t in _leaving(key, transitions):
                if t.get("to") not in pausing:
                    _add_effect(t, "resume_sla")
        elif paused_before:
            for t in _entering(key, transitions):
                _drop_effect(t, "pause_sla")
            for t in _leaving(key, transitions):
                _drop_effect(t, "resume_sla")


def _add_effect(t: dict, effect: str) -> None:
    effects = _effects(t)
    if effect not in effects:
        t["effects"] = [*effects, effect]


def _drop_effect(t: dict, effect: str) -> None:
    if effect in _effects(t):
        t["effects"] = [e for e in t["effects"] if e != effect]


# ---- problems of the definition -> table cells -------------------------------------------


_CELLS = {"name": "name", "title": "title", "from": "from", "to": "to", "roles": "roles", "levels": "levels",
          "guards": "guards", "effects": "effects", "notify": "notify", "public_note": "public_note",
          "deadline": "deadline_amount"}


def cell_of(pointer: str, tables: dict) -> str | None:
    """The table pointer (e.g. ``/transitions/2/to``) a definition's problem pointer
    (``/workflow/transitions/2/to``) belongs to, or None: shown in the summary only."""
    parts = [p for p in (pointer or "").split("/") if p != ""]
    if not parts:
        return None
    head = parts[0]
    if head in ("title", "prefix", "description", "org"):
        return f"/{head}"
    if head == "sla":
        return _sla_cell(parts[1:], tables)
    if head != "workflow" or len(parts) < 2:
        return None
    if parts[1] == "initial":
        return "/initial"
    if parts[1] not in ("states", "transitions"):
        return None
    table = parts[1]
    i = _index(parts[2], len(tables.get(table, []))) if len(parts) > 2 else None
    if i is None:
        return f"/{table}"
    rest = parts[3:]
    if table == "states":
        return f"/states/{i}/{rest[0]}" if rest and rest[0] in ("key", "title", "final") else f"/states/{i}"
    if not rest:
        return f"/transitions/{i}"
    col = rest[0]
    if col in _CELLS:
        return f"/transitions/{i}/{_CELLS[col]}"
    if col == "step_limit":
        return f"/transitions/{i}/step_title" if rest[1:2] == ["title"] else f"/transitions/{i}/step_amount"
    if col == "fields":
        return _field_cell(i, rest[1:], tables["transitions"][i].get("fields", []))
    return f"/transitions/{i}"


def _field_cell(i: int, rest: list[str], rows: list[dict]) -> str:
    if len(rest) >= 2 and rest[0] == "properties":
        for j, row in enumerate(rows):
            if row.get("name") == rest[1]:
                sub = rest[2] if len(rest) > 2 else ""
                col = "title" if sub == "title" else "options" if sub in ("oneOf", "enum") else "kind"
                return f"/transitions/{i}/fields/{j}/{col}"
    return f"/transitions/{i}/fields"


def _sla_cell(rest: list[str], tables: dict) -> str:
    sla = tables.get("sla", {})
    if not rest:
        return "/sla/default_amount"
    if rest[0] == "field":
        return "/sla/field"
    if rest[0] == "default":
        return "/sla/default_amount"
    if rest[0] == "tiers" and len(rest) > 1:
        for j, row in enumerate(sla.get("tiers", [])):
            if row.get("value") == rest[1]:
                return f"/sla/tiers/{j}/amount"
    if rest[0] == "escalation" and len(rest) > 1 and _index(rest[1], len(sla.get("escalation", []))) is not None:
        col = "level" if rest[2:3] == ["level"] else "amount"
        return f"/sla/escalation/{rest[1]}/{col}"
    if rest[0] == "notify":
        return f"/sla/notify_{rest[1]}" if len(rest) > 1 and rest[1] in SLA_EVENTS else "/sla/notify_due_soon"
    return f"/sla/{rest[0]}" if rest[0] in ("tiers", "escalation") else "/sla/default_amount"


def input_name(pointer: str) -> str:
    """The form input (or row, or table) a table pointer names: /transitions/2/to → transitions-2-to."""
    return pointer.strip("/").replace("/", "-")
