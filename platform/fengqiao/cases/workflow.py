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
case); the pseudo-role ``assignee`` means the case's current assignee. ``levels`` optionally
narrows the role to units of those levels. Guards: ``comment_required``,
``assignee_required`` (someone must have claimed it), ``attachment_required`` (the case holds
at least one attachment), ``all_checked_in`` (every unit summoned by 吹哨 has checked in), ``all_rated`` (each of them
has been rated by the initiating side), ``four_eyes`` (not the person who submitted the case
nor the one who took the step into the current state: 初审/复审 by different people).
``fields``: a JSON Schema the action's extra input must satisfy (validated like every form,
Chinese messages). Effects: ``assign_actor``, ``unassign``, ``dispatch`` (the transition's
``unit`` field names the unit — often a 职能部门 — that becomes the lead handler: its staff
then see and act on the case), ``summon`` (吹哨: the ``units`` field lists departments that
must each check in within ``checkin_minutes``, default 30), ``pause_sla`` / ``resume_sla``
(挂账 stops the clock; resuming credits the paused time back), ``notify`` (a notification
job for the reporter). ``deadline`` (a limit like the SLA's) restarts the clock from now with
that limit — the "set deadline" effect, e.g. a case sent back for redoing. A final state
closes the case. ``reopen_to`` names the state a
reopened case returns to (default: the initial state).

``sla`` sets a new case's deadline: ``{"field": "urgency", "tiers": {"urgent": {"hours": 24},
"normal": {"working_days": 3}}, "default": {"working_days": 5}}`` — natural hours, or working
days from the official calendar (starting the next working day, ending at close of the Nth).
``due_soon`` (default one working day) marks a case 临期 that long before its deadline;
``escalation`` is the ladder overdue cases climb automatically, e.g. ``[{"after": {"hours": 0},
"level": "street"}, {"after": {"working_days": 2}, "level": "county"}]``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengqiao.validation import problems, validator_for

log = logging.getLogger(__name__)

GUARDS = ("comment_required", "assignee_required", "attachment_required", "all_checked_in", "all_rated",
          "four_eyes")
EFFECTS = ("assign_actor", "unassign", "dispatch", "summon", "pause_sla", "resume_sla", "notify")
ROLE_NAMES = ("admin", "supervisor", "staff", "grid_worker", "department", "viewer", "assignee")

CASE_TYPE_SCHEMA: dict[str, Any] = {
    "$defs": {"limit": {
        "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
        "properties": {"hours": {"type": "number", "exclusiveMinimum": 0},
                       "working_days": {"type": "integer", "minimum": 0}}},
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
                "escalation": {"type": "array", "maxItems": 4, "items": {
                    "type": "object", "required": ["after", "level"], "additionalProperties": False,
                    "properties": {"after": {"$ref": "#/$defs/wait"},
                                   "level": {"enum": ["community", "street", "county"]}}}},
            },
        },
        "checkin_minutes": {"type": "integer", "minimum": 1, "maximum": 10080},
        # closed cases of this type are anonymised after N days (cases/retention.py)
        "retention": {"type": "object", "required": ["closed_days"], "additionalProperties": False,
                      "properties": {"closed_days": {"type": "integer", "minimum": 1, "maximum": 36500}}},
        "reopen_to": {"type": "string"},
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

    @property
    def due_soon(self) -> dict | None:
        return (self.sla or {}).get("due_soon")

    @property
    def escalation(self) -> list[dict]:
        return (self.sla or {}).get("escalation", [])

    def tier_for(self, data: dict) -> str:
        """The SLA tier's value a new case falls in (its priority), or ""."""
        field_name = (self.sla or {}).get("field")
        value = data.get(field_name) if field_name else None
        return str(value) if value is not None and str(value) in self.sla.get("tiers", {}) else ""

    def limit_for(self, data: dict) -> dict | None:
        """The time limit a new case gets: its tier's (by the SLA field's value) or the default."""
        if not self.sla:
            return None
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
        if "fields" in t:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(t["fields"])
            except SchemaError as err:
                found.append((f"/workflow/transitions/{i}/fields", f"fields 不是有效的 JSON Schema: {err.message}",
                              "schema"))
    return found


def parse_case_type(data: dict) -> CaseType:
    wf = data["workflow"]
    return CaseType(
        key=data["key"], title=data["title"], prefix=data["prefix"], initial_state=wf["initial"],
        sla=data.get("sla"), reopen_to=data.get("reopen_to"),
        checkin_minutes=data.get("checkin_minutes", 30),
        states={s["key"]: State(s["key"], s["title"], s.get("final", False)) for s in wf["states"]},
        transitions={
            t["name"]: Transition(
                t["name"], t["title"], tuple(t["from"]), t["to"], tuple(t["roles"]),
                tuple(t.get("levels", ())), tuple(t.get("guards", ())), tuple(t.get("effects", ())),
                t.get("fields"), t.get("deadline"),
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
    from fengqiao.forms.core import CORE_DEFINITIONS

    registry = Registry()
    registry.load_folder(CORE_DEFINITIONS)
    for name, plugin in app.extensions.get("fengqiao.plugins", {}).items():
        registry.load_folder(plugin.package_path(plugin.form_definitions), name)
    for problem in registry.problems:
        log.error("case type definition invalid: %s", problem)
    app.extensions["fengqiao.case_types"] = registry
    app.extensions.pop("fengqiao.case_type_versions", None)  # its cache read the old registry
    return registry


def case_type(key: str | None, version: int | None = None) -> CaseType:
    """Case type ``key`` as of ``version`` (None: the latest), from the versions table with a
    per-app cache; unknown keys give the generic workflow (see ``fengqiao.cases.case_types``)."""
    from flask import current_app

    from fengqiao.cases.case_types import store_of

    return store_of(current_app).get(key, version)
