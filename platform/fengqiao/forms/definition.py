"""Form definition files: the data class, and the checks behind ``fengqiao forms check``.

A definition is checked in three layers, each reporting every issue it finds (one
:class:`DefinitionProblem` per issue, with a JSON pointer into the file) so an author fixes a
file in one pass instead of one error per run:

1. the file's own shape (:data:`DEFINITION_META_SCHEMA`, see ``form_definitions/README.md``);
2. ``schema`` is a valid JSON Schema 2020-12 (all meta-schema errors, under ``/schema``);
3. cross-references the meta-schemas cannot express: ``ui`` names, ``title_field``,
   ``required`` names, unknown formats, a field listed in two sections.

Nothing here touches Flask or the database: the CLI, the importer and tests share it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from fengqiao.forms import relevance
from fengqiao.forms.formats import FORMAT_CHECKER
from fengqiao.input_guard import MAX_JSON_DEPTH, too_deep
from fengqiao.masking import ACCEPTING_LEVELS, CONDITION_TYPES, HIDDEN_UI_KEY, PERSONAL_KINDS
from fengqiao.validation import TYPE_NAMES, pointer, reference_faults, schema_slots

KEY_PATTERN = r"^[a-z][a-z0-9-]{1,63}$"
# Attribute names of WTForms forms (and our own hidden fields): a property with one of these
# names would shadow the form's machinery when the form class is built.
RESERVED_FIELD_NAMES = frozenset({
    "meta", "process", "data", "errors", "validate", "populate_obj", "form_errors",
    "csrf_token", "fq_version", "hidden_tag", "is_submitted", "validate_on_submit",
    "extra_validators", "Meta",
})
CASE_TYPE_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
WIDGETS = ("textarea", "radio", "select", "checkboxes", "image", "file", "hidden", "address")
SCHEMA_DIALECTS = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
)
# Files beside the forms that describe case types and workflows; checked elsewhere.
SKIPPED_SUFFIXES = (".casetype.json", ".workflow.json")

CONTACT_UI_KEY = "contact"  # ``ui.contact``: {"mobile": field, "consent": field}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_NAME_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}

DEFINITION_META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["key", "title", "schema", "access"],
    "properties": {
        "key": {"type": "string", "pattern": KEY_PATTERN},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "schema": {"type": "object"},
        "access": {"enum": ["public", "staff"]},
        "case_type": {"type": "string", "pattern": CASE_TYPE_PATTERN},
        "title_field": {"type": "string", "minLength": 1},
        # The unit that accepts submissions naming no unit (fengqiao.cases.routing).
        "accepting_unit": {"type": "string", "pattern": r"^[0-9A-Za-z][0-9A-Za-z\-]{1,31}$"},
        # false: an intake-only form (a plugin's own record, no case; fengqiao.forms.submit).
        "opens_case": {"type": "boolean"},
        "ui": {
            "type": "object",
            "properties": {
                "order": _NAME_LIST,
                "sections": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "fields"],
                        "properties": {
                            "title": {"type": "string", "minLength": 1},
                            "fields": _NAME_LIST,
                            "description": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
                "widgets": {"type": "object", "additionalProperties": {"enum": list(WIDGETS)}},
                "help": _STRING_MAP,
                "placeholders": _STRING_MAP,
                "trim": _NAME_LIST,
                # When the page shows a field: an expression tree per field (fengqiao.forms.relevance).
                "relevant": {"type": "object", "additionalProperties": {"type": "object"}},
                # Personal fields and how they are masked (fengqiao.masking).
                "personal": {"type": "object", "additionalProperties": {"enum": list(PERSONAL_KINDS)}},
                # Fields withheld from the handling unit, on a condition (fengqiao.cases.visibility).
                HIDDEN_UI_KEY: {
                    "type": "object",
                    "required": ["fields"],
                    "properties": {
                        "fields": _NAME_LIST,
                        "when": {"type": "object", "additionalProperties": {"type": "array"}},
                        "accepting_level": {"enum": list(ACCEPTING_LEVELS)},
                    },
                    "additionalProperties": False,
                },
                # Where the resident's SMS contact is (fengqiao.notifications.residents).
                CONTACT_UI_KEY: {
                    "type": "object",
                    "required": ["mobile", "consent"],
                    "properties": {"mobile": {"type": "string", "minLength": 1},
                                   "consent": {"type": "string", "minLength": 1}},
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

_DEFINITION_VALIDATOR = Draft202012Validator(DEFINITION_META_SCHEMA)
_SCHEMA_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


@dataclass(frozen=True)
class FormDefinition:
    """One form as its file describes it (already checked; see :func:`check_definition`)."""

    key: str
    title: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    access: str
    case_type: str | None = None
    description: str = ""
    title_field: str | None = None
    accepting_unit: str | None = None
    opens_case: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormDefinition:
        """Build from a definition dict; the nested dicts are copied, not shared."""
        return cls(
            key=data["key"],
            title=data["title"],
            schema=copy.deepcopy(data["schema"]),
            ui=copy.deepcopy(data.get("ui") or {}),
            access=data["access"],
            case_type=data.get("case_type"),
            description=data.get("description", ""),
            title_field=data.get("title_field"),
            accepting_unit=data.get("accepting_unit"),
            opens_case=data.get("opens_case", True),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form, in README key order; empty optional keys are left out."""
        out: dict[str, Any] = {"key": self.key, "title": self.title}
        if self.description:
            out["description"] = self.description
        out["access"] = self.access
        if self.case_type is not None:
            out["case_type"] = self.case_type
        if self.title_field is not None:
            out["title_field"] = self.title_field
        if self.accepting_unit is not None:
            out["accepting_unit"] = self.accepting_unit
        if not self.opens_case:
            out["opens_case"] = False
        out["schema"] = copy.deepcopy(self.schema)
        if self.ui:
            out["ui"] = copy.deepcopy(self.ui)
        return out


@dataclass(frozen=True)
class DefinitionProblem:
    """One issue in one file; ``pointer`` is a JSON pointer into that file ("" = the whole)."""

    source: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.pointer or '/'}: {self.message}"


# --- schema walking -------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaNode:
    """A place in a form schema that holds data.

    ``kind`` is ``"property"`` for a named field (``address.city``, ``members[].name``) or
    ``"items"`` for the items of an array field (``photos[]``, ``members[]``). ``required``
    says whether the parent object lists the property in ``required`` (False for items).
    """

    path: str
    schema: dict[str, Any]
    kind: str
    required: bool


def _object_children(schema: dict[str, Any], prefix: str) -> Iterator[SchemaNode]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue  # boolean schemas hold no field description
        path = f"{prefix}.{name}" if prefix else name
        yield SchemaNode(path, sub, "property", name in required_names)
        yield from _descend(sub, path)


def _descend(schema: dict[str, Any], path: str) -> Iterator[SchemaNode]:
    yield from _object_children(schema, path)
    items = schema.get("items")
    if isinstance(items, dict):
        yield SchemaNode(f"{path}[]", items, "items", False)
        yield from _object_children(items, f"{path}[]")


def schema_nodes(schema: dict[str, Any]) -> list[SchemaNode]:
    """Every property and array-items node below the root, parents before children."""
    return list(_object_children(schema, "")) if isinstance(schema, dict) else []


def _is_container(schema: dict[str, Any]) -> bool:
    """An object with properties (a fieldset) or an array of such objects (a repeatable group)."""
    if isinstance(schema.get("properties"), dict):
        return True
    items = schema.get("items")
    return isinstance(items, dict) and isinstance(items.get("properties"), dict)


def field_paths(schema: dict[str, Any], *, containers: bool = False) -> dict[str, dict[str, Any]]:
    """Every leaf field's path mapped to its sub-schema, in schema order.

    Nested object properties are dotted (``address.city``); the fields of an array of
    objects use ``[]`` (``members[].name``). With ``containers=True`` the fieldsets and
    repeatable groups themselves (``address``, ``members``) are included too.
    """
    return {
        node.path: node.schema
        for node in schema_nodes(schema)
        if node.kind == "property" and (containers or not _is_container(node.schema))
    }


# --- checking one definition ----------------------------------------------------------------


def _ptr(*parts: Any) -> str:
    return pointer(parts)


def _quote(values: Iterable[Any]) -> str:
    return "、".join(json.dumps(v, ensure_ascii=False) for v in values)


def _meta_problems(data: Any) -> list[tuple[str, str]]:
    """The file's own shape: one (pointer, message) per issue.

    jsonschema yields one ``required`` error per missing name, each carrying the whole list,
    so the problems are de-duplicated.
    """
    return list(dict.fromkeys(_meta_messages(data)))


def _meta_messages(data: Any) -> Iterator[tuple[str, str]]:
    for error in _DEFINITION_VALIDATOR.iter_errors(data):
        path = list(error.absolute_path)
        where = pointer(path)
        kw, v = error.validator, error.validator_value
        if kw == "required":
            instance = error.instance if isinstance(error.instance, dict) else {}
            for name in v:
                if name not in instance:
                    yield pointer([*path, name]), f"缺少必填项 {name}"
        elif kw == "additionalProperties":
            allowed = error.schema.get("properties", {})
            for name in error.instance:
                if name not in allowed:
                    yield pointer([*path, name]), f"不允许的键 {name}（允许：{'、'.join(allowed)}）"
        elif kw == "type":
            yield where, f"应为{TYPE_NAMES.get(v, v)} ({v})"
        elif kw == "pattern":
            yield where, f"格式不正确，应匹配 {v}"
        elif kw == "enum":
            yield where, f"取值 {_quote([error.instance])} 无效，应为 {_quote(v)} 之一"
        elif kw == "minLength":
            yield where, "不能为空"
        else:  # pragma: no cover - every keyword of the meta-schema is handled above
            yield where, f"不符合表单定义格式（{error.message}）"


def _schema_error_message(error: ValidationError) -> str:
    """Chinese lead for a JSON-Schema meta-schema error, jsonschema's detail in parentheses."""
    kw = error.validator
    if kw == "format" and error.validator_value == "regex":
        lead = "正则表达式无效"
    elif kw == "type" or (kw == "anyOf" and error.path and error.path[-1] == "type"):
        lead = "类型不正确"
    elif kw in ("minimum", "exclusiveMinimum"):
        lead = "取值过小"
    elif kw == "uniqueItems":
        lead = "各项不能重复"
    else:
        lead = "不是有效的 JSON Schema 2020-12"
    return f"{lead}（{error.message}）"


def _json_schema_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``schema`` against the JSON Schema 2020-12 meta-schema, every error."""
    dialect = schema.get("$schema")
    if dialect is not None and dialect not in SCHEMA_DIALECTS:
        yield _ptr("schema", "$schema"), f"只支持 JSON Schema 2020-12（应为 {SCHEMA_DIALECTS[0]}）"
    for error in _SCHEMA_META_VALIDATOR.iter_errors(schema):
        yield pointer(["schema", *error.absolute_path]), _schema_error_message(error)


# Keywords whose subschemas apply to the same instance as their parent: a ``required`` in
# them names the parent's properties (``anyOf: [{"required": ["a"]}, …]``, ``then``).
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_SINGLE = ("not", "if", "then", "else")
# Keywords whose subschemas apply to a different instance (a property, an item …).
_NESTED_MAPS = ("properties", "patternProperties", "$defs")
_NESTED_SINGLE = (
    "items", "contains", "additionalProperties", "unevaluatedProperties",
    "unevaluatedItems", "propertyNames",
)


def _subschemas(
    schema: Any, path: list[Any], inherited: frozenset[str] = frozenset()
) -> Iterator[tuple[dict[str, Any], list[Any], frozenset[str]]]:
    """Every dict subschema with its path and the property names its instance can have."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    names = inherited | frozenset(properties if isinstance(properties, dict) else ())
    yield schema, path, names
    for key, value in schema.items():
        if key in _IN_PLACE_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _subschemas(sub, [*path, key, i], names)
        elif key in _IN_PLACE_SINGLE:
            yield from _subschemas(value, [*path, key], names)
        elif key == "dependentSchemas" and isinstance(value, dict):
            for name, sub in value.items():
                yield from _subschemas(sub, [*path, key, name], names)
        elif key in _NESTED_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _subschemas(sub, [*path, key, name])
        elif key == "prefixItems" and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _subschemas(sub, [*path, key, i])
        elif key in _NESTED_SINGLE:
            yield from _subschemas(value, [*path, key])


# Where ``true``/``false`` is the usual idiom and no code reads it as a field's description;
# anywhere else (a property, items, a oneOf choice …) renderers, normalisation and masking
# expect an object, so a boolean there is refused rather than answered with a 500.
_BOOLEAN_SLOTS = ("additionalProperties", "unevaluatedProperties", "unevaluatedItems")
_REF_MESSAGES = {
    "external": "不能引用外部 schema（{ref}）：{keyword} 只能指向本文件内的定义，如 #/$defs/address",
    "missing": "{keyword} 指向的 {ref} 在本文件中不存在",
    "not_schema": "{keyword} 指向的 {ref} 不是 schema",
}


def _reference_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Boolean subschemas outside :data:`_BOOLEAN_SLOTS`, and every ``$ref``/``$dynamicRef``
    that leaves the document (the validator would fetch it: server-side request forgery) or
    names nothing in it (every validation would fail)."""
    for sub, path, keyword, _ in schema_slots(schema, ["schema"]):
        if isinstance(sub, bool) and keyword not in _BOOLEAN_SLOTS:
            yield pointer(path), (
                f"此处不支持布尔值 schema（{json.dumps(sub)}）：请写成对象，"
                '如 {}（任意值）或 {"not": {}}（不允许任何值）'
            )
    for path, keyword, ref, fault in reference_faults(schema, ["schema"]):
        yield pointer([*path, keyword]), _REF_MESSAGES[fault].format(ref=ref, keyword=keyword)


def _form_shape_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A form schema is an object with a list of fields."""
    if "type" not in schema:
        yield _ptr("schema"), '表单 schema 顶层应声明 "type": "object"'
    elif schema["type"] != "object":
        yield _ptr("schema", "type"), '表单 schema 顶层应为 "type": "object"'
    if "properties" not in schema:
        yield _ptr("schema"), "表单 schema 缺少 properties（字段列表）"


def _structure_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Rules for every part of a form schema beyond JSON Schema validity."""
    for sub, path, names in _subschemas(schema, ["schema"]):
        properties = sub.get("properties")
        for name in properties if isinstance(properties, dict) else ():
            if "." in name or "[" in name or "]" in name:
                yield pointer([*path, "properties", name]), (
                    f"字段名 {name} 不能包含 “.”、“[” 或 “]”（这些符号用于表示字段路径）"
                )
            elif name in RESERVED_FIELD_NAMES or name.startswith("_") or not name.isidentifier():
                yield pointer([*path, "properties", name]), (
                    f"字段名 {name} 不可用：请用字母开头的英文字母、数字或下划线，"
                    "且不要使用系统保留名（如 data、meta、errors）"
                )
        required = sub.get("required")
        for i, name in enumerate(required if isinstance(required, list) else ()):
            if isinstance(name, str) and name not in names:
                yield pointer([*path, "required", i]), f"required 中的字段 {name} 不在 properties 中"
        dependent = sub.get("dependentRequired")
        for trigger, deps in dependent.items() if isinstance(dependent, dict) else ():
            if trigger not in names:
                yield pointer([*path, "dependentRequired", trigger]), (
                    f"dependentRequired 引用了不存在的字段 {trigger}"
                )
            for i, name in enumerate(deps if isinstance(deps, list) else ()):
                if isinstance(name, str) and name not in names:
                    yield pointer([*path, "dependentRequired", trigger, i]), (
                        f"dependentRequired 引用了不存在的字段 {name}"
                    )
        fmt = sub.get("format")
        if isinstance(fmt, str) and fmt not in FORMAT_CHECKER.checkers:
            yield pointer([*path, "format"]), f"未知的格式 (format) {fmt}，服务器不会校验它"


def _ui_name_problem(name: str, top_level_only: bool, known: dict[str, Any]) -> str | None:
    if name in known:
        if top_level_only and ("." in name or "[" in name):
            return f"此处只能引用顶层字段，{name} 是嵌套字段"
        return None
    hint = ""
    parts = name.split(".")
    for i in range(1, len(parts)):
        candidate = ".".join(parts[:i]) + "[]." + ".".join(parts[i:])
        if candidate in known:
            hint = f"（数组中的字段请写作 {candidate}）"
            break
    return f"ui 引用了不存在的字段 {name}{hint}"


def _ui_problems(ui: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every name in ``ui`` must be a property; order and sections list top-level names once."""
    known = field_paths(schema, containers=True) if isinstance(schema, dict) else {}

    def names(key: str) -> Iterator[tuple[list[Any], str]]:
        value = ui.get(key)
        if isinstance(value, list):
            yield from (([key, i], n) for i, n in enumerate(value) if isinstance(n, str))
        elif isinstance(value, dict):
            yield from (([key, n], n) for n in value)

    for key in ("order", "trim", "widgets", "help", "placeholders", "personal"):
        seen: set[str] = set()
        for path, name in names(key):
            message = _ui_name_problem(name, key == "order", known)
            if message is None and name in seen:
                message = f"{key} 中重复列出字段 {name}"
            seen.add(name)
            if message:
                yield pointer(["ui", *path]), message

    widgets = ui.get("widgets") if isinstance(ui.get("widgets"), dict) else {}
    for name, widget in widgets.items():
        prop = known.get(name)
        if widget == "address" and isinstance(prop, dict) and (
                prop.get("type") != "string" or "format" in prop or not choices_free(prop) or "[]" in name):
            yield pointer(["ui", "widgets", name]), (
                f"地址选择控件（address）只能用于不在重复分组中的普通文本字段，{name} 不是")

    sections = ui.get("sections")
    placed: dict[str, str] = {}
    for s, section in enumerate(sections if isinstance(sections, list) else []):
        if not isinstance(section, dict) or not isinstance(section.get("fields"), list):
            continue
        title = section.get("title") if isinstance(section.get("title"), str) else f"第 {s + 1} 组"
        for f, name in enumerate(section["fields"]):
            if not isinstance(name, str):
                continue
            message = _ui_name_problem(name, True, known)
            if message is None and name in placed:
                message = f"字段 {name} 已在分组「{placed[name]}」中出现，一个字段只能属于一个分组"
            placed.setdefault(name, title)
            if message:
                yield pointer(["ui", "sections", s, "fields", f]), message


def _condition_choices(prop: dict[str, Any]) -> list[Any] | None:
    """The values a ``when`` may test a field for: its choices, or None for free text."""
    if isinstance(prop.get("enum"), list):
        return prop["enum"]
    if isinstance(prop.get("oneOf"), list):
        return [o["const"] for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
    if prop.get("type") == "boolean":
        return [True, False]
    return None


def choices_free(prop: dict[str, Any]) -> bool:
    """Whether a field is free text rather than a choice (``enum`` / ``oneOf``)."""
    return "enum" not in prop and "oneOf" not in prop


def _condition_value_ok(prop: dict[str, Any], value: Any) -> bool:
    if type(value) not in CONDITION_TYPES:
        return False
    choices = _condition_choices(prop)
    if choices is not None:  # ``True == 1``: a flag must not pass for a number
        return any(type(c) is type(value) and c == value for c in choices)
    return prop.get("type") == "string" and isinstance(value, str)


def _hidden_problems(ui: dict[str, Any], schema: dict[str, Any], title_field: Any) -> Iterator[tuple[str, str]]:
    """``ui.hidden_from_handler``: fields that exist (never the title, which every list shows),
    a condition on top-level fields with values those fields can hold."""
    mark = ui.get(HIDDEN_UI_KEY)
    if not isinstance(mark, dict):
        return
    known = field_paths(schema, containers=True)
    fields = mark.get("fields")
    if isinstance(fields, list) and not fields:
        yield pointer(["ui", HIDDEN_UI_KEY, "fields"]), "请至少列出一个要对承办单位隐藏的字段"
    seen: set[str] = set()
    for i, name in enumerate(fields if isinstance(fields, list) else []):
        if not isinstance(name, str):
            continue
        message = _ui_name_problem(name, False, known)
        if message is None and name in seen:
            message = f"{HIDDEN_UI_KEY} 中重复列出字段 {name}"
        if message is None and name == title_field:
            message = f"标题字段 {name}（title_field）不能对承办单位隐藏：事项标题在列表和导出中对所有人显示"
        seen.add(name)
        if message:
            yield pointer(["ui", HIDDEN_UI_KEY, "fields", i]), message
    when = mark.get("when")
    for name, values in when.items() if isinstance(when, dict) else ():
        where = ["ui", HIDDEN_UI_KEY, "when", name]
        message = _ui_name_problem(name, True, known)
        if message:
            yield pointer(where), message
            continue
        if not isinstance(values, list):
            continue  # the meta-schema reports it
        if not values:
            yield pointer(where), f"请列出字段 {name} 的至少一个取值"
        choices = _condition_choices(known[name])
        for j, value in enumerate(values):
            if not _condition_value_ok(known[name], value):
                hint = f"（可选：{_quote(choices)}）" if choices else "（应为文本）"
                yield pointer([*where, j]), f"条件取值 {_quote([value])} 不是字段 {name} 的可选值{hint}"


def _contact_problems(ui: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``ui.contact``: ``mobile`` names a top-level ``cn-mobile`` text field and ``consent`` a
    top-level boolean (the resident's 同意短信 box): SMS goes out only when it is ticked."""
    mark = ui.get(CONTACT_UI_KEY)
    if not isinstance(mark, dict):
        return
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for slot in ("mobile", "consent"):
        name = mark.get(slot)
        if not isinstance(name, str) or not name:
            continue  # the meta-schema reports it
        prop = properties.get(name)
        where = pointer(["ui", CONTACT_UI_KEY, slot])
        if not isinstance(prop, dict):
            yield where, f"ui.contact.{slot} 引用了不存在的顶层字段 {name}"
        elif slot == "mobile" and not (prop.get("type") == "string" and prop.get("format") == "cn-mobile"):
            yield where, f"联系手机字段 {name} 应为手机号格式的文本（\"format\": \"cn-mobile\"）"
        elif slot == "consent" and prop.get("type") != "boolean":
            yield where, f"同意联系字段 {name} 应为勾选框（\"type\": \"boolean\"）"


def _title_field_problem(name: str, schema: dict[str, Any]) -> str | None:
    properties = schema.get("properties")
    prop = properties.get(name) if isinstance(properties, dict) else None
    if not isinstance(prop, dict):
        return f"title_field 引用了不存在的顶层字段 {name}"
    types = prop.get("type")
    if types != "string" and not (isinstance(types, list) and "string" in types):
        return f"title_field 字段 {name} 应为文本 (string) 类型"
    return None


def schema_problems(schema: dict[str, Any], *, form: bool = True) -> list[tuple[str, str]]:
    """Every (pointer under ``/schema``, message) that keeps ``schema`` out of a definition:
    JSON Schema validity, then the rules for every part of it; ``form=False`` leaves out the
    top-level shape (an object with properties), for checking arbitrary schemas the same way."""
    invalid = list(_json_schema_problems(schema))
    # One issue, one problem: "type": "objekt" is already reported as invalid.
    reported = {where for where, _ in invalid}
    rules = [*_form_shape_problems(schema)] if form else []
    rules += _structure_problems(schema)
    if not invalid:  # references are only followed in a valid schema
        rules += _reference_problems(schema)
    return invalid + [p for p in rules if p[0] not in reported]


def check_definition(data: Any, source: str = "<input>") -> list[DefinitionProblem]:
    """Every problem of one definition (parsed JSON); an empty list means it is usable."""
    try:
        canonical = json.dumps(data, ensure_ascii=False)  # key order matters: problems follow it
    except (TypeError, ValueError):  # not JSON at all: checked (and rejected) uncached
        return [DefinitionProblem(source, where, message) for where, message in _problems_of(data)]
    return [DefinitionProblem(source, where, message) for where, message in _cached_problems(canonical)]


@functools.lru_cache(maxsize=256)
def _cached_problems(canonical: str) -> tuple[tuple[str, str], ...]:
    """The check is pure and costly (meta-schema validation): every sync, import and start
    re-checks the same definitions, so each distinct one is checked once per process."""
    return tuple(_problems_of(json.loads(canonical)))


def _problems_of(data: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = _meta_problems(data)
    if isinstance(data, dict):
        schema = data.get("schema")
        if isinstance(schema, dict):
            found += schema_problems(schema, form=True)
            ui = data.get("ui")
            if isinstance(ui, dict):
                found += _ui_problems(ui, schema)
                found += _hidden_problems(ui, schema, data.get("title_field"))
                found += _contact_problems(ui, schema)
                found += [(pointer(["ui", "relevant", *at]), message) for at, message
                          in relevance.problems(ui.get("relevant"), field_paths(schema, containers=True), schema)]
            title_field = data.get("title_field")
            if isinstance(title_field, str) and title_field:
                message = _title_field_problem(title_field, schema)
                if message:
                    found.append((_ptr("title_field"), message))
        # The meta-schema's patterns use ``$``, which also matches before a final newline.
        for name, pattern in (("key", KEY_PATTERN), ("case_type", CASE_TYPE_PATTERN)):
            value = data.get(name)
            if isinstance(value, str) and re.search(pattern, value) and value.endswith("\n"):
                found.append((_ptr(name), f"格式不正确，应匹配 {pattern}（末尾不能有换行）"))
    return found


# --- checking files -------------------------------------------------------------------------


class _DuplicateKeys(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json`` keeps the last of repeated keys silently; a definition must not repeat one."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeys(key)
        out[key] = value
    return out


def _expand(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.json") if p.is_file() and not _skipped(p))
        elif not _skipped(path):
            yield path


def _skipped(path: Path) -> bool:
    return path.name.endswith(SKIPPED_SUFFIXES)


def _load(path: Path) -> tuple[Any, DefinitionProblem | None]:
    """Parsed JSON, or the one problem that stops reading the file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, DefinitionProblem(source, "", "文件不存在")
    except OSError as exc:
        return None, DefinitionProblem(source, "", f"无法读取文件（{exc.strerror or exc}）")
    return parse_definition_bytes(raw, source)


def parse_definition_bytes(raw: bytes, source: str) -> tuple[Any, DefinitionProblem | None]:
    """Decode and parse an uploaded or stored definition file (UTF-8, BOM tolerated)."""
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        return None, DefinitionProblem(
            source, "", f"文件不是 UTF-8 编码（第 {exc.start + 1} 个字节无法解码）"
        )
    return parse_definition_text(text, source)


def parse_definition_text(text: str, source: str) -> tuple[Any, DefinitionProblem | None]:
    """Parsed JSON, or the one problem (syntax error, repeated key) that stops reading it.

    Shared by the files, the designer's JSON text and uploads, so all report the same way.
    """
    if too_deep(text):  # before the parser, which overflows Python's stack at ~1,000 levels
        return None, DefinitionProblem(source, "", f"JSON 嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys), None
    except json.JSONDecodeError as exc:
        return None, DefinitionProblem(
            source, "", f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列（{exc.msg}）"
        )
    except _DuplicateKeys as exc:
        return None, DefinitionProblem(source, "", f"JSON 中同一对象内的键 {exc.args[0]} 重复出现")


def check_files(
    paths: Iterable[Path],
) -> tuple[list[FormDefinition], list[DefinitionProblem]]:
    """Load and check definition files; directories contribute their ``*.json`` files.

    Returns the definitions that have no problems and every problem found. A key already
    used by an earlier file is a problem of the later file, which is then not returned.
    """
    definitions: list[FormDefinition] = []
    problems: list[DefinitionProblem] = []
    first_file_of: dict[str, str] = {}
    for path in _expand(paths):
        data, load_problem = _load(path)
        if load_problem is not None:
            problems.append(load_problem)
            continue
        source = str(path)
        found = check_definition(data, source)
        key = data.get("key") if isinstance(data, dict) else None
        if isinstance(key, str):
            if key in first_file_of:
                found.append(DefinitionProblem(
                    source, "/key", f"表单 key 重复：{key}（已在 {first_file_of[key]} 中定义）"
                ))
            else:
                first_file_of[key] = source
        problems += found
        if not found:
            definitions.append(FormDefinition.from_dict(data))
    return definitions, problems
