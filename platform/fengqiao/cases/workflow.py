"""Case types and their workflows, declared as JSON beside the form definitions.

A file ``<key>.casetype.json`` declares one case type::

    {"key": "grid_incident", "title": "网格事件", "prefix": "WG",
     "workflow": {
        "initial": "reported",
        "states": [{"key": "reported", "title": "已上报"},
                   {"key": "closed", "title": "已结案", "final": true}],
        "transitions": [
          {"name": "close", "title": "结案", "from": ["reported"], "to": "closed",
           "roles": ["staff"], "guards": ["comment_required"],
           "fields": {"type": "object", "properties": {...}, "required": [...]},
           "effects": ["unassign"]}]}}

An optional ``"org": "<unit code>"`` limits the type to that unit's subtree (absent: the whole
county; ``fengqiao.cases.jurisdiction``). ``check_case_type`` lists every problem at once, with
1-based positions and the valid choices, and (strict) the design rules: every state reachable,
no non-final dead end, a final state, ``attachment_required`` only with a photo/file field.

``roles`` lists the roles that may take a transition (held in a unit whose subtree holds the
case); the pseudo-role ``assignee`` means the case's current assignee. ``leader`` (领导/书记)
takes the approvals, ``mediator`` acts only on case types that list it (a closing transition
lists ``assignee``, not ``mediator``: a mediator closes only their own case). ``levels`` optionally
narrows the role to units of those levels. Guards: ``comment_required``,
``assignee_required`` (someone must have claimed it), ``attachment_required`` (须有附件: at least
one file uploaded at this step through the step's own photo/file fields — the report's photos do
not count; see ``fengqiao.cases.photos``), ``all_checked_in`` (every unit summoned by 吹哨 has checked in), ``all_rated`` (each of them
has been rated by the initiating side), ``four_eyes`` (not the person who submitted the case
nor the one who took the step into the current state: 初审/复审 by different people),
``from_above`` (the actor holds one of the transition's roles in a unit strictly above the
case's own unit — the level above approves, e.g. 挂账; a same-level colleague cannot).
``before_after_photos`` (the case
already holds a photo — the report's own counts — and the step adds one through a field of
``"format": "attachment"``, see ``fengqiao.cases.photos``), ``dispatched_unit`` (the actor
holds one of the roles in a unit the case was dispatched to, or below it: 签收 is the handling
unit's act, so the dispatcher cannot sign in for it and inflate 响应率), ``other_hand`` (not the
one who took the step into the current state — 审核 is not by whoever replied — while the
submitter, e.g. the 12345 dispatcher who keyed in the call, may), ``case_unit`` (the actor
holds the role over the case's own unit — the accepting side — not merely over a unit it was
dispatched to: a handling community does not 审核 its own reply).
``fields``: a JSON Schema the action's extra input must satisfy (validated like every form,
Chinese messages); a photo field is an array of ``{"type": "string", "format": "attachment"}``
(pictures only), a file field adds ``"contentMediaType": "*/*"`` to its items (documents too),
and a required one also ``"minItems": 1`` (「请上传{title}」 when empty). Effects: ``assign_actor``, ``unassign``, ``dispatch`` (the transition's
``unit`` field names the unit — often a 职能部门 — that becomes the lead handler: its staff
then see and act on the case), ``summon`` (吹哨: the ``units`` field lists departments that
must each check in within the type's ``checkin`` limit for the case's category — e.g.
``{"field": "category", "tiers": {"emergency": {"minutes": 30}}, "default": {"working_hours":
2}}``, see ``fengqiao.cases.checkin`` — or the older ``checkin_minutes``, default 30), ``pause_sla`` / ``resume_sla``
(挂账 and 补正 stop the clock; resuming credits the paused time back and clears the review
date), ``notify`` (a notification job for the reporter), ``set_review`` (the ``review_on``
date of the request that led here — the 挂账 request, or this transition's own field — becomes
the parked item's review date: on that date the ``cases.park_reviews`` job reminds the unit's
staff and the assignee once, with a history row 挂账复核提醒), ``set_tier`` (受理 confirms the
reporter's provisional classification: each of the transition's fields that is the SLA field
or already in the case data — ``urgency``, ``request_type`` — is offered with the reported
value as default; a different value replaces it, the history records ``{key: {"from", "to",
"from_title", "to_title"}}``, and a changed SLA field recomputes priority, limit, deadline
(from the clock's start), ``due_at`` and status from the type's tiers; confirming the same
value changes nothing but is recorded), ``record_rating`` (the transition's ``satisfied`` field —
``satisfied`` / ``basically_satisfied`` / ``dissatisfied`` — becomes the case's rating, as
the resident's answer at 回访: 满意率 counts it and /track does not ask again). ``deadline`` (a limit like the SLA's) restarts the clock from now with
that limit — the "set deadline" effect, e.g. a case sent back for redoing. A final state
closes the case. ``reopen_to`` names the state a
reopened case returns to (default: the initial state).

挂账 (parking) is declared with these words, e.g. in ``grid_incident``: ``request_park``
(comment = the reason; fields ``review_on`` — format date, after today — and the expected
resolution) → ``park_requested`` (the clock still runs) → ``approve_park`` (guards
``four_eyes`` + ``from_above``; effects ``pause_sla`` + ``set_review``) → ``parked`` or
``reject_park`` back to work; then ``review`` (the level above moves the review date:
``from_above`` + ``set_review`` with its own ``review_on``), ``resume`` (恢复办理:
``resume_sla``) or ``write_off`` (销号: ``resume_sla`` into a final state, so the parked time
is credited before met/missed is judged). 补正 is ``request_materials`` (``pause_sla`` +
``notify``; a ``reply`` field tells the resident on /track what is missing) →
``awaiting_materials`` (待补正) → ``materials_received`` (``resume_sla``).

``sla`` sets a new case's deadline: ``{"field": "urgency", "tiers": {"urgent": {"hours": 24},
"normal": {"working_days": 3}}, "default": {"working_days": 5}}`` — natural hours, or working
days from the official calendar (starting the next working day, ending at close of the Nth).
``due_soon``, optional, marks a case 临期 that long before its deadline; without it the limit
decides (``sla.due_soon_from``: 75 % elapsed or < 1 working day left, 2 h left for hour limits);
``escalation`` is the ladder overdue cases climb automatically, e.g. ``[{"after": {"hours": 0},
"level": "street"}, {"after": {"working_days": 2}, "level": "county"}]``.
``override`` (``{"field": "urgency", "tiers": {"critical": {"hours": 24}}}``) is a second field
whose tiers win over the first; ``start_field`` names a date-time form field that, when
given, starts the clock instead of the submission (12345 受理时间; never in the future).

A transition's ``step_limit`` (``{"title": "签收", "default": {"working_hours": 2}, "field":
"urgency", "tiers": {"critical": {"hours": 0.5}}}``) gives the step it leads to its own limit
beside the case deadline (``"ends_step": true`` completes it without a state change, e.g.
联系诉求人 during 办理); ``"sla": "stop"`` ends the case's clock (met or missed) while the
case goes on, e.g. at a dispute's agreement — see ``fengqiao.cases.steps``.

A transition's ``notify`` lists who is told in the message centre (站内信) once the step is
taken — beside the effects' own notifications (派单, 吹哨, ``notify`` for the reporter):
``assignee`` (the case's assignee after the step), ``handling_unit`` (the staff of the unit the
case is dispatched to: this step's dispatch, else the latest), ``case_unit`` (the staff of the
case's own unit), ``unit_heads`` (the heads of the handling unit, else of the case's unit),
``submitter`` (the staff account that submitted the case) and ``reporter`` (the resident: kept
for the SMS channel, the inbox skips it). The actor is never told of their own step; the message
is 「事项 {number}：{title}」 with the new state, never the comment (it may hold personal data).
See ``fengqiao.cases.recipients``.

``sla.notify`` declares who hears of the clock's events: ``{"due_soon": [...], "overdue": [...],
"escalated": [...]}`` (临期, 超期, 超期自动升级), each a list of the same codes but ``reporter`` (the
text urges the handlers), plus ``escalated_unit`` (the staff of the unit the case escalated to,
if it did). An event left out keeps the default (``SLA_NOTIFY_DEFAULTS``: the assignee and the
handling unit's heads for 临期/超期, the unit escalated to for 升级); ``[]`` tells nobody. The
units the codes name as groups (handling, case, escalated-to unit) hear of it through their
group robots. Resolved by ``fengqiao.cases.jobs``.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengqiao.bundled import bundled_folder
from fengqiao.cases.workflow_labels import (
    LABELS,
    LEVEL_LABELS,
    NOTIFY_LABELS,
    SLA_EVENT_LABELS,
    SLA_NOTIFY_LABELS,
)
from fengqiao.params import parse_int
from fengqiao.validation import problems, validator_for

log = logging.getLogger(__name__)

GUARDS = ("comment_required", "assignee_required", "attachment_required", "all_checked_in", "all_rated",
          "four_eyes", "from_above", "before_after_photos", "dispatched_unit", "other_hand", "case_unit")
EFFECTS = ("assign_actor", "unassign", "dispatch", "summon", "pause_sla", "resume_sla", "notify",
           "set_review", "set_tier", "record_rating")
# who a transition's ``notify`` may name (cases/recipients.py)
NOTIFY_RECIPIENTS = ("assignee", "handling_unit", "case_unit", "unit_heads", "submitter", "reporter")
# the clock's events a type's ``sla.notify`` may declare, whom they may name, and who hears of
# them when the type declares nothing (what the SLA sweep always did)
SLA_EVENTS = ("due_soon", "overdue", "escalated")
SLA_NOTIFY_RECIPIENTS = (*(c for c in NOTIFY_RECIPIENTS if c != "reporter"), "escalated_unit")
SLA_NOTIFY_DEFAULTS = {"due_soon": ("assignee", "unit_heads"), "overdue": ("assignee", "unit_heads"),
                       "escalated": ("escalated_unit",)}
ROLE_NAMES = ("admin", "supervisor", "staff", "grid_worker", "department", "viewer", "leader", "mediator", "assignee")

CASE_TYPE_SCHEMA: dict[str, Any] = {
    "$defs": {"limit": {
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {"hours": {"type": "number", "exclusiveMinimum": 0},
                       "working_days": {"type": "integer", "minimum": 0}}},
        "checkin_limit": {
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {"minutes": {"type": "number", "exclusiveMinimum": 0, "maximum": 10080},
                       "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 168},
                       "working_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 80}}},
        "step_span": {
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {"hours": {"type": "number", "exclusiveMinimum": 0},
                       "working_hours": {"type": "number", "exclusiveMinimum": 0},
                       "days": {"type": "integer", "minimum": 1},
                       "working_days": {"type": "integer", "minimum": 1}}},
        "step_limit": {
        "type": "object", "additionalProperties": False, "required": ["title", "default"],
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 32},
                       "default": {"$ref": "#/$defs/step_span"},
                       "field": {"type": "string"},
                       "tiers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/step_span"}}}},
        "wait": {
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {"hours": {"type": "number", "minimum": 0},
                       "working_days": {"type": "integer", "minimum": 0}}},
        "sla_recipients": {"type": "array", "uniqueItems": True, "items": {"enum": list(SLA_NOTIFY_RECIPIENTS)}}},
    "type": "object",
    "required": ["key", "title", "prefix", "workflow"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,63}$"},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "prefix": {"type": "string", "pattern": "^[A-Z]{2,4}$"},
        "description": {"type": "string"},
        # the org unit (code) whose subtree the type applies to; absent: the whole county
        # (cases/jurisdiction.py)
        "org": {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z\\-]{1,31}$"},
        "sla": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string"},
                "tiers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/limit"}},
                "default": {"$ref": "#/$defs/limit"},
                "due_soon": {"$ref": "#/$defs/limit"},
                # a second field whose tiers win over the first (12345 特急: 24 h whatever the type)
                "override": {"type": "object", "required": ["field", "tiers"], "additionalProperties": False,
                             "properties": {"field": {"type": "string"},
                                            "tiers": {"type": "object",
                                                      "additionalProperties": {"$ref": "#/$defs/limit"}}}},
                # a form field (date-time) that, when given, starts the clock (12345 受理时间)
                "start_field": {"type": "string"},
                "escalation": {"type": "array", "maxItems": 4, "items": {
                    "type": "object", "required": ["after", "level"], "additionalProperties": False,
                    "properties": {"after": {"$ref": "#/$defs/wait"},
                                   "level": {"enum": ["community", "street", "county"]}}}},
                # who hears of 临期 / 超期 / 超期升级 (cases/jobs.py); absent events: SLA_NOTIFY_DEFAULTS
                "notify": {"type": "object", "additionalProperties": False,
                           "properties": {event: {"$ref": "#/$defs/sla_recipients"} for event in SLA_EVENTS}},
            },
        },
        "checkin_minutes": {"type": "integer", "minimum": 1, "maximum": 10080},
        # 吹哨报到 check-in limits by category (cases/checkin.py); supersedes checkin_minutes
        "checkin": {"type": "object", "additionalProperties": False, "properties": {
            "field": {"type": "string"},
            "tiers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/checkin_limit"}},
            "default": {"$ref": "#/$defs/checkin_limit"}}},
        # closed cases of this type are anonymised after N days (cases/retention.py)
        "retention": {"type": "object", "required": ["closed_days"], "additionalProperties": False,
                      "properties": {"closed_days": {"type": "integer", "minimum": 1, "maximum": 36500}}},
        "reopen_to": {"type": "string"},
        "board": {"type": "boolean"},  # false: never shown on the public 回音壁 (调解档案不公开)
        "workflow": {
            "type": "object",
            "required": ["initial", "states", "transitions"],
            "additionalProperties": False,
            "properties": {
                "initial": {"type": "string"},
                "states": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["key", "title"], "additionalProperties": False,
                    "properties": {"key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
                                   "title": {"type": "string", "minLength": 1},
                                   "final": {"type": "boolean"}}}},
                "transitions": {"type": "array", "items": {
                    "type": "object", "required": ["name", "title", "from", "to", "roles"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
                        "title": {"type": "string", "minLength": 1},
                        "from": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                        "to": {"type": "string"},
                        "roles": {"type": "array", "minItems": 1, "items": {"enum": list(ROLE_NAMES)}},
                        "levels": {"type": "array", "items": {
                            "enum": ["county", "street", "community", "grid", "building"]}},
                        "guards": {"type": "array", "items": {"enum": list(GUARDS)}},
                        "effects": {"type": "array", "items": {"enum": list(EFFECTS)}},
                        "notify": {"type": "array", "uniqueItems": True, "items": {"enum": list(NOTIFY_RECIPIENTS)}},
                        "fields": {"type": "object"},
                        "public_note": {"type": "string"},
                        "deadline": {"$ref": "#/$defs/limit"},
                        "step_limit": {"$ref": "#/$defs/step_limit"},  # cases/steps.py
                        "sla": {"enum": ["stop"]},  # the clock ends here (met / missed)
                        "ends_step": {"type": "boolean"},  # completes the step in force, state kept
                    }}},
            },
        },
    },
}


@dataclass(frozen=True)
class State:
    key: str
    title: str
    final: bool = False


MERGED = "merged"
CORE_STATES = {MERGED: State(MERGED, "已合并", True)}  # states every type has (merging is core)


@dataclass(frozen=True)
class Transition:
    name: str
    title: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    levels: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    fields: dict | None = None
    deadline: dict | None = None  # a new limit from now (e.g. 退回重办 gets 3 working days)
    step_limit: dict | None = None  # the next step's own limit (签收 within 2 h), cases/steps.py
    sla: str | None = None  # "stop": the case's clock ends here, the case goes on (调解协议)
    ends_step: bool = False  # completes the step in force without a state change (联系诉求人)
    public_note: str | None = None  # what residents read on /track for this step (cases/tracking.py)
    notify: tuple[str, ...] = ()  # who the message centre tells of the step (cases/recipients.py)


@dataclass(frozen=True)
class CaseType:
    key: str
    title: str
    prefix: str
    initial_state: str
    states: dict[str, State] = field(default_factory=dict)
    transitions: dict[str, Transition] = field(default_factory=dict)
    sla: dict | None = None  # {"field", "tiers": {value: limit}, "default": limit}
    version: int = 1  # the row of case_type_versions it came from (1: the file, before a sync)
    reopen_to: str | None = None  # where a reopened case resumes (None: the initial state)
    checkin_minutes: int = 30  # 吹哨报到: how long a summoned unit has to check in
    board: bool = True  # may be published on the public 回音壁
    checkin: dict | None = None  # 吹哨报到 limits by category (cases/checkin.py), else checkin_minutes
    org: str | None = None  # the unit code whose subtree it applies to (None: county-wide)

    @property
    def due_soon(self) -> dict | None:
        return (self.sla or {}).get("due_soon")

    @property
    def escalation(self) -> list[dict]:
        return (self.sla or {}).get("escalation", [])

    def sla_notify(self, event: str) -> tuple[str, ...]:
        """Who hears of the clock's ``event`` (due_soon, overdue, escalated): the declared codes,
        else the defaults."""
        declared = ((self.sla or {}).get("notify") or {}).get(event)
        return tuple(declared) if isinstance(declared, list) else SLA_NOTIFY_DEFAULTS[event]

    def tier_for(self, data: dict) -> str:
        """The SLA tier's value a new case falls in (its priority), or ""."""
        override = (self.sla or {}).get("override")
        if override and str(data.get(override["field"])) in override["tiers"]:
            return str(data.get(override["field"]))
        field_name = (self.sla or {}).get("field")
        value = data.get(field_name) if field_name else None
        return str(value) if value is not None and str(value) in self.sla.get("tiers", {}) else ""

    def limit_for(self, data: dict) -> dict | None:
        """The time limit a new case gets: its tier's (by the SLA field's value) or the default."""
        if not self.sla:
            return None
        override = self.sla.get("override")
        if override and str(data.get(override["field"])) in override["tiers"]:
            return override["tiers"][str(data.get(override["field"]))]
        tier = data.get(self.sla.get("field", "")) if self.sla.get("field") else None
        return self.sla.get("tiers", {}).get(str(tier)) or self.sla.get("default")

    def state_title(self, key: str) -> str:
        state = self.states.get(key) or CORE_STATES.get(key)
        return state.title if state else key

    def is_final(self, key: str) -> bool:
        state = self.states.get(key) or CORE_STATES.get(key)
        return bool(state and state.final)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    @property
    def named_roles(self) -> frozenset[str]:
        """Roles some transition lists: a type-bound role (``mediator``) acts only where named."""
        return frozenset(r for t in self.transitions.values() for r in t.roles)


def check_case_type(data: Any, *, strict: bool = True) -> list[tuple[str, str, str]]:
    """Every problem at once as (pointer, message, code): the shape (each message naming the
    state or transition by its 1-based position and, for a wrong choice, the valid ones), and
    the references between states, checked on whatever parts are well-formed.

    ``strict`` adds the design rules a stored version may predate (a state nobody reaches, a
    dead end, no final state, 须有附件 without a photo or file field): admins' saves and the
    shipped files are held to them; a version already stored stays usable (``strict=False``)."""
    found = [_explain(problem, data) for problem in problems(validator_for(CASE_TYPE_SCHEMA), data)]
    wf = data.get("workflow") if isinstance(data, dict) else None
    if not isinstance(wf, dict):
        return found
    states = [s for s in _list(wf.get("states")) if isinstance(s, dict) and isinstance(s.get("key"), str)]
    keys = [s["key"] for s in states]
    choices = _choices(keys)
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        places = [i + 1 for i, s in enumerate(_list(wf.get("states"))) if isinstance(s, dict) and s.get("key") == key]
        found.append(("/workflow/states", f"状态 key 重复：{key}（第 {'、'.join(map(str, places))} 个状态）",
                      "unique"))
    initial = wf.get("initial")
    if isinstance(initial, str) and states and initial not in keys:
        found.append(("/workflow/initial", f"初始状态 {initial} 未定义{choices}", "unknown_state"))
    reopen_to = data.get("reopen_to")
    if isinstance(reopen_to, str) and states and reopen_to not in keys:
        found.append(("/reopen_to", f"重新打开后的状态 {reopen_to} 未定义{choices}", "unknown_state"))
    transitions = [(i, t) for i, t in enumerate(_list(wf.get("transitions"))) if isinstance(t, dict)]
    names = [t.get("name") for _i, t in transitions if isinstance(t.get("name"), str)]
    for name in sorted({n for n in names if names.count(n) > 1}):
        places = [i + 1 for i, t in transitions if t.get("name") == name]
        found.append(("/workflow/transitions", f"流转名称重复：{name}（第 {'、'.join(map(str, places))} 条流转）",
                      "unique"))
    for i, t in transitions:
        at, label = f"/workflow/transitions/{i}", _transition_label(i, t)
        fields = t.get("fields") if isinstance(t.get("fields"), dict) else {}
        effects, guards = _list(t.get("effects")), _list(t.get("guards"))
        if "dispatch" in effects and "unit" not in _list(fields.get("required")):
            found.append((f"{at}/fields", f"{label}派单（dispatch）需要必填字段 unit", "required"))
        if states:
            refs = [(f"{at}/from/{j}", ref) for j, ref in enumerate(_list(t.get("from")))]
            refs.append((f"{at}/to", t.get("to")))
            for pointer, ref in refs:
                if isinstance(ref, str) and ref not in keys:
                    found.append((pointer, f"{label}引用了未定义的状态 {ref}{choices}", "unknown_state"))
        error = _schema_error(json.dumps(t["fields"])) if "fields" in t else None
        if error:
            found.append((f"{at}/fields", f"{label}fields 不是有效的 JSON Schema: {error}", "schema"))
        if strict and "attachment_required" in guards and not _attachment_fields(fields):
            found.append((f"{at}/guards/{guards.index('attachment_required')}",
                          f"{label}须有附件要求本步骤有照片或附件字段", "attachment_field"))
    if strict and states:
        found += _shape_problems(wf, states, transitions)
    return found


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _choices(keys: list[str]) -> str:
    shown = "、".join(dict.fromkeys(keys))
    return f"（可选：{shown}）" if shown else ""


def _transition_label(i: int, t: Any) -> str:
    title = t.get("title") if isinstance(t, dict) else None
    name = t.get("name") if isinstance(t, dict) else None
    shown = title if isinstance(title, str) and title else name if isinstance(name, str) and name else ""
    return f"第 {i + 1} 条流转「{shown}」" if shown else f"第 {i + 1} 条流转"


def _state_label(i: int, s: Any) -> str:
    title = s.get("title") if isinstance(s, dict) else None
    key = s.get("key") if isinstance(s, dict) else None
    shown = title if isinstance(title, str) and title else key if isinstance(key, str) and key else ""
    return f"第 {i + 1} 个状态「{shown}」" if shown else f"第 {i + 1} 个状态"


def _attachment_fields(fields: dict) -> list[str]:
    """The step's photo / file fields: ``format: attachment`` on the field or its items."""
    found = []
    for name, prop in (fields.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if prop.get("format") == "attachment" or items.get("format") == "attachment":
            found.append(name)
    return found


def _shape_problems(wf: dict, states: list[dict], transitions: list[tuple[int, dict]]) -> list[tuple[str, str, str]]:
    """States no path from the initial one reaches, non-final dead ends, no final state."""
    found = []
    keys = {s["key"] for s in states}
    edges: dict[str, set[str]] = {k: set() for k in keys}
    for _i, t in transitions:
        target = t.get("to")
        for source in _list(t.get("from")):
            if source in edges and isinstance(target, str) and target in keys:
                edges[source].add(target)
    initial = wf.get("initial")
    reached, todo = set(), [initial] if initial in keys else []
    while todo:
        key = todo.pop()
        if key not in reached:
            reached.add(key)
            todo += edges[key] - reached
    positions = {}
    for i, s in enumerate(_list(wf.get("states"))):
        if isinstance(s, dict) and isinstance(s.get("key"), str):
            positions.setdefault(s["key"], (i, s))
    for key, (i, s) in positions.items():
        label = _state_label(i, s)
        if initial in keys and key not in reached:
            found.append((f"/workflow/states/{i}", f"{label}从初始状态出发无法到达：没有通向它的流转路径", "unreachable"))
        if not s.get("final") and not edges[key] - {key}:
            found.append((f"/workflow/states/{i}", f"{label}不是终止状态，却没有离开它的流转：事项会停在这里",
                          "dead_end"))
    if not any(s.get("final") for s in states):
        found.append(("/workflow/states", "流程没有终止状态：至少要有一个状态标为终止（结案）", "no_final"))
    return found


ESCALATION_LEVELS = ("community", "street", "county")


TOP_PATTERNS = {
    "key": "标识只能用小写字母开头，由小写字母、数字和下划线组成，2–64 个字符",
    "prefix": "编号前缀应为 2–4 个大写英文字母",
}
_ENUMS = {  # the list a transition's item comes from: (what it is, its valid keys and titles)
    "roles": "角色", "guards": "条件", "effects": "效果", "levels": "单位层级", "notify": "通知对象",
}


def _enum_options(kind: str) -> dict[str, str]:
    """Valid keys of a list with their Chinese labels (``fengqiao.cases.workflow_labels``)."""
    if kind == "roles":
        return {r: LABELS["roles"].get(r, r) for r in ROLE_NAMES}
    if kind == "guards":
        return {g: LABELS["guards"].get(g, g) for g in GUARDS}
    if kind == "effects":
        return {e: LABELS["effects"].get(e, e) for e in EFFECTS}
    if kind == "notify":
        return {n: NOTIFY_LABELS.get(n, n) for n in NOTIFY_RECIPIENTS}
    if kind == "escalation":
        return {lvl: LEVEL_LABELS.get(lvl, lvl) for lvl in ESCALATION_LEVELS}
    if kind == "sla_notify":
        return {n: SLA_NOTIFY_LABELS.get(n, n) for n in SLA_NOTIFY_RECIPIENTS}
    if kind == "sla_events":
        return dict(SLA_EVENT_LABELS)
    return {lvl: LEVEL_LABELS.get(lvl, lvl) for lvl in ("county", "street", "community", "grid", "building")}


def _named_options(kind: str) -> str:
    return "、".join(f"{k}（{v}）" for k, v in _enum_options(kind).items())


def _explain(problem: tuple[str, str, str], data: Any) -> tuple[str, str, str]:
    """A schema problem in the admin's words: which state or transition (1-based), and for a
    wrong choice which ones are valid."""
    pointer, message, code = problem
    parts = pointer.split("/")[1:]
    wf = data.get("workflow") if isinstance(data, dict) else None
    index = parse_int(parts[2]) if len(parts) >= 3 else None
    if parts[:2] == ["workflow", "transitions"] and index is not None:
        i = index
        items = _list(wf.get("transitions")) if isinstance(wf, dict) else []
        label = _transition_label(i, items[i] if i < len(items) else None)
        rest = parts[3:]
        if code == "enum" and len(rest) == 2 and rest[0] in _ENUMS:
            value = _value_at(data, parts)
            return (pointer, f"{label}的{_ENUMS[rest[0]]} {value} 无效（可选：{_named_options(rest[0])}）", code)
        return pointer, f"{label}{_where(rest)}：{message}", code
    if parts[:2] == ["workflow", "states"] and index is not None:
        i = index
        items = _list(wf.get("states")) if isinstance(wf, dict) else []
        label = _state_label(i, items[i] if i < len(items) else None)
        rest = parts[3:]
        if rest == ["key"] and code == "pattern":
            return pointer, f"{label}的 key 只能用小写字母开头，由小写字母、数字和下划线组成（最多 32 个字符）", code
        return pointer, f"{label}{_where(rest)}：{message}", code
    if parts in (["key"], ["prefix"]) and code == "pattern":
        return pointer, TOP_PATTERNS[parts[0]], code
    if len(parts) == 4 and parts[:2] == ["sla", "escalation"] and parts[3] == "level" and code == "enum" \
            and index is not None:
        return (pointer, f"第 {index + 1} 级超期督办的层级 {_value_at(data, parts)} 无效"
                         f"（可选：{_named_options('escalation')}）", code)
    if parts[:2] == ["sla", "notify"]:
        return pointer, _sla_notify_message(parts[2:], data, message, code), code
    return problem


def _sla_notify_message(rest: list[str], data: Any, message: str, code: str) -> str:
    """A problem of ``sla.notify`` named by its event (临期/超期/超期升级) and, for a wrong
    code or event, with the valid ones."""
    if not rest:
        return f"时限通知 notify：{message}"
    event = SLA_EVENT_LABELS.get(rest[0])
    if event is None:
        return f"时限通知 notify 的事件 {rest[0]} 无效（可选：{_named_options('sla_events')}）"
    where = f"{event}通知对象"
    if code == "enum" and len(rest) == 2:
        value = _value_at(data, ["sla", "notify", *rest])
        return f"{where} {value} 无效（可选：{_named_options('sla_notify')}）"
    return f"{where}：{message}"


PART_TITLES = {"name": "标识 name", "title": "名称 title", "from": "起始状态 from", "to": "目标状态 to",
               "roles": "角色 roles", "key": "标识 key", "final": "终止 final", "fields": "字段 fields",
               "guards": "条件 guards", "effects": "效果 effects", "levels": "单位层级 levels",
               "notify": "通知对象 notify"}


def _where(rest: list[str]) -> str:
    """``the 角色 roles/2`` part of a message, or "" for the item itself."""
    if not rest:
        return ""
    return "的 " + "/".join([PART_TITLES.get(rest[0], rest[0]), *rest[1:]])


def _value_at(data: Any, parts: list[str]) -> Any:
    for part in parts:
        index = parse_int(part) if isinstance(data, list) else None
        if index is not None and index < len(data):
            data = data[index]
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


@functools.lru_cache(maxsize=256)
def _schema_error(schema_json: str) -> str | None:
    """Why a transition's ``fields`` is no JSON Schema, or None. Memoised by content: the
    meta-schema check is slow (a quarter of ``create_app``) and every app checks the same files."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as err:
        return err.message
    return None


def parse_case_type(data: dict) -> CaseType:
    wf = data["workflow"]
    return CaseType(
        key=data["key"], title=data["title"], prefix=data["prefix"], initial_state=wf["initial"],
        sla=data.get("sla"), reopen_to=data.get("reopen_to"),
        checkin_minutes=data.get("checkin_minutes", 30),
        board=data.get("board", True), checkin=data.get("checkin"), org=data.get("org"),
        states={s["key"]: State(s["key"], s["title"], s.get("final", False)) for s in wf["states"]},
        transitions={
            t["name"]: Transition(
                t["name"], t["title"], tuple(t["from"]), t["to"], tuple(t["roles"]),
                tuple(t.get("levels", ())), tuple(t.get("guards", ())), tuple(t.get("effects", ())),
                t.get("fields"), t.get("deadline"), step_limit=t.get("step_limit"), sla=t.get("sla"),
                ends_step=t.get("ends_step", False),
                public_note=t.get("public_note"), notify=tuple(t.get("notify", ())),
            )
            for t in wf["transitions"]
        },
    )


GENERAL = parse_case_type({
    "key": "general", "title": "通用事项", "prefix": "TY",
    "workflow": {
        "initial": "submitted",
        "states": [{"key": "submitted", "title": "已提交"}, {"key": "in_progress", "title": "办理中"},
                   {"key": "closed", "title": "已办结", "final": True}],
        "transitions": [
            {"name": "start", "title": "开始办理", "from": ["submitted"], "to": "in_progress",
             "roles": ["staff", "grid_worker", "department", "supervisor"], "effects": ["assign_actor"]},
            {"name": "close", "title": "办结", "from": ["submitted", "in_progress"], "to": "closed",
             "roles": ["staff", "supervisor", "assignee"], "guards": ["comment_required"]},
        ],
    },
})


class Registry:
    """Case types by key, loaded from ``*.casetype.json`` files of the core and plugins.

    These are the files as shipped; what cases follow is versioned in the database
    (``fengqiao.cases.case_types``), where the files are synced as file-sourced versions.
    """

    def __init__(self) -> None:
        self.types: dict[str, CaseType] = {GENERAL.key: GENERAL}
        self.definitions: dict[str, tuple[dict, str]] = {}  # key -> (JSON, "core" | plugin name)
        self.problems: list[str] = []

    def load_folder(self, folder: Path | None, source: str = "core") -> None:
        if folder is None or not folder.is_dir():
            return
        for path in sorted(folder.glob("*.casetype.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                self.problems.append(f"{path}: {err}")
                continue
            found = check_case_type(data)
            if found:
                self.problems += [f"{path}: {p or '/'}: {m}" for p, m, _ in found]
                continue
            self.types[data["key"]] = parse_case_type(data)
            self.definitions[data["key"]] = (data, source)

    def get(self, key: str | None) -> CaseType:
        """The case type for ``key``; unknown keys fall back to the generic workflow."""
        if key and key in self.types:
            return self.types[key]
        if key:
            log.warning("unknown case type %s: using the generic workflow", key)
        return GENERAL


def init_case_types(app) -> Registry:
    """Build the app's registry from the core's folder and each loaded plugin's."""
    registry = Registry()
    registry.load_folder(bundled_folder("form_definitions"))
    for name, plugin in app.extensions.get("fengqiao.plugins", {}).items():
        registry.load_folder(plugin.package_path(plugin.form_definitions), name)
    for problem in registry.problems:
        log.error("case type definition invalid: %s", problem)
    app.extensions["fengqiao.case_types"] = registry
    app.extensions.pop("fengqiao.case_type_versions", None)  # its cache read the old registry
    return registry
