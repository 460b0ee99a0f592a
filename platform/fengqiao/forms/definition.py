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

import fengqiao.forms.formats  # noqa: F401  (registers the custom formats checked below)
from fengqiao.masking import PERSONAL_KINDS
from fengqiao.validation import FORMAT_CHECKER, TYPE_NAMES, pointer

KEY_PATTERN = r"^[a-z][a-z0-9-]{1,63}$"
# Attribute names of WTForms forms (and our own hidden fields): a property with one of these
# names would shadow the form's machinery when the form class is built.
RESERVED_FIELD_NAMES = frozenset({
    "meta", "process", "data", "errors", "validate", "populate_obj", "form_errors",
    "csrf_token", "fq_version", "hidden_tag", "is_submitted", "validate_on_submit",
    "extra_validators", "Meta",
})
CASE_TYPE_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
WIDGETS = ("textarea", "radio", "select", "checkboxes", "image", "file", "hidden")
SCHEMA_DIALECTS = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
)
# Files beside the forms that describe case types and workflows; checked elsewhere.
SKIPPED_SUFFIXES = (".casetype.json", ".workflow.json")

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
                # Personal fields and how they are masked (fengqiao.masking).
                "personal": {"type": "object", "additionalProperties": {"enum": list(PERSONAL_KINDS)}},
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


def _structure_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Shape rules of a form schema beyond JSON Schema validity."""
    if "type" not in schema:
        yield _ptr("schema"), '表单 schema 顶层应声明 "type": "object"'
    elif schema["type"] != "object":
        yield _ptr("schema", "type"), '表单 schema 顶层应为 "type": "object"'
    if "properties" not in schema:
        yield _ptr("schema"), "表单 schema 缺少 properties（字段列表）"

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


def _title_field_problem(name: str, schema: dict[str, Any]) -> str | None:
    properties = schema.get("properties")
    prop = properties.get(name) if isinstance(properties, dict) else None
    if not isinstance(prop, dict):
        return f"title_field 引用了不存在的顶层字段 {name}"
    types = prop.get("type")
    if types != "string" and not (isinstance(types, list) and "string" in types):
        return f"title_field 字段 {name} 应为文本 (string) 类型"
    return None


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
            invalid = list(_json_schema_problems(schema))
            found += invalid
            # One issue, one problem: "type": "objekt" is already reported as invalid.
            reported = {where for where, _ in invalid}
            found += [p for p in _structure_problems(schema) if p[0] not in reported]
            ui = data.get("ui")
            if isinstance(ui, dict):
                found += _ui_problems(ui, schema)
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
