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

``roles`` lists the roles that may take a transition (held in a unit whose subtree holds the
case); the pseudo-role ``assignee`` means the case's current assignee. ``leader`` (领导/书记)
takes the approvals, ``mediator`` acts only on case types that list it (a closing transition
lists ``assignee``, not ``mediator``: a mediator closes only their own case). ``levels`` optionally
narrows the role to units of those levels. Guards: ``comment_required``,
``assignee_required`` (someone must have claimed it), ``attachment_required`` (the case holds
at least one attachment), ``all_checked_in`` (every unit summoned by 吹哨 has checked in), ``all_rated`` (each of them
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
Chinese messages). Effects: ``assign_actor``, ``unassign``, ``dispatch`` (the transition's
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
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengqiao.bundled import bundled_folder
from fengqiao.validation import problems, validator_for

log = logging.getLogger(__name__)

GUARDS = ("comment_required", "assignee_required", "attachment_required", "all_checked_in", "all_rated",
          "four_eyes", "from_above", "before_after_photos", "dispatched_unit", "other_hand", "case_unit")
EFFECTS = ("assign_actor", "unassign", "dispatch", "summon", "pause_sla", "resume_sla", "notify",
           "set_review", "set_tier", "record_rating")
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
                       "working_days": {"type": "integer", "minimum": 0}}}},
    "type": "object",
    "required": ["key", "title", "prefix", "workflow"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,63}$"},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "prefix": {"type": "string", "pattern": "^[A-Z]{2,4}$"},
        "description": {"type": "string"},
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

    @property
    def due_soon(self) -> dict | None:
        return (self.sla or {}).get("due_soon")

    @property
    def escalation(self) -> list[dict]:
        return (self.sla or {}).get("escalation", [])

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


def check_case_type(data: Any) -> list[tuple[str, str, str]]:
    """Problems as (pointer, message, code): the shape, then references between states."""
    found = problems(validator_for(CASE_TYPE_SCHEMA), data)
    if found:
        return found
    wf = data["workflow"]
    keys = [s["key"] for s in wf["states"]]
    if len(set(keys)) != len(keys):
        found.append(("/workflow/states", "状态 key 重复", "unique"))
    if wf["initial"] not in keys:
        found.append(("/workflow/initial", f"初始状态 {wf['initial']} 未定义", "unknown_state"))
    names = [t["name"] for t in wf["transitions"]]
    if len(set(names)) != len(names):
        found.append(("/workflow/transitions", "流转名称重复", "unique"))
    for i, t in enumerate(wf["transitions"]):
        if "dispatch" in t.get("effects", []) and "unit" not in t.get("fields", {}).get("required", []):
            found.append((f"/workflow/transitions/{i}/fields", "派单（dispatch）需要必填字段 unit",
                          "required"))
        for ref in [*t["from"], t["to"]]:
            if ref not in keys:
                found.append((f"/workflow/transitions/{i}", f"流转 {t['name']} 引用了未定义的状态 {ref}",
                              "unknown_state"))
        error = _schema_error(json.dumps(t["fields"])) if "fields" in t else None
        if error:
            found.append((f"/workflow/transitions/{i}/fields", f"fields 不是有效的 JSON Schema: {error}",
                          "schema"))
    return found


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
        board=data.get("board", True), checkin=data.get("checkin"),
        states={s["key"]: State(s["key"], s["title"], s.get("final", False)) for s in wf["states"]},
        transitions={
            t["name"]: Transition(
                t["name"], t["title"], tuple(t["from"]), t["to"], tuple(t["roles"]),
                tuple(t.get("levels", ())), tuple(t.get("guards", ())), tuple(t.get("effects", ())),
                t.get("fields"), t.get("deadline"), step_limit=t.get("step_limit"), sla=t.get("sla"),
                ends_step=t.get("ends_step", False),
                public_note=t.get("public_note"),
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
