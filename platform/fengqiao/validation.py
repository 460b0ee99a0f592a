r"""JSON-Schema validation with one Chinese message per field and the contract's pointers.

Validators are compiled once per schema and cached (``jsonschema.validate`` rebuilds the
validator on every call, ~40× slower). Each schema gets two: jsonschema-rs (compiled Rust)
answers "is it valid?" first, in microseconds — the common case of every submission and
import row; only data it rejects goes through the reference ``jsonschema`` validator, which
decides and explains. Both call the same Python format checkers; schemas where the two
libraries could still disagree on "valid" (some regular-expression constructs, fractional
``multipleOf``) get no fast validator at all. The guarantee, held by
``tests/forms/test_fast_validator.py`` and ``test_definition_refs.py``: the fast validator never
accepts what the reference rejects. Python's ``\d``, ``\w``, ``\s`` and ``\b`` are Unicode-aware
while jsonschema-rs follows ECMA-262 (ASCII ``\d``/``\w``), so a pattern is only "portable"
where jsonschema-rs is the stricter: ``\d`` outside negated classes, no ``\D``, ``\w``,
``\W``, ``\s``, ``\S``, ``\b``, ``\B``, ``\p{…}``.

Formats are jsonschema's 2020-12 checkers (RFC 3339 ``time`` with an offset, not the draft-3
``HH:MM:SS`` that a bare ``FormatChecker()`` picks) plus Fengqiao's own, all in
:mod:`fengqiao.forms.formats`. References never
leave the document: the validators get a registry that cannot retrieve anything (forms check
already refuses such a ``$ref``; one stored before is reported as a ``$ref`` problem, a 422,
never fetched). Errors become ``(pointer, message, code)`` where
``code`` is the JSON-Schema keyword and ``pointer`` names the field the user must fix: the
missing field for ``required``/``dependentRequired``, the unknown key for
``additionalProperties``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from fengqiao.exceptions import Invalid, Problem
from fengqiao.forms.formats import FORMAT_CHECKER, format_message

# Resolves references inside the schema itself and retrieves nothing (the library's default
# would fetch any remote ``$ref`` over HTTP on every validation).
LOCAL_ONLY = Registry()
BROKEN_REF: Problem = ("", "表单定义引用了本文件以外或不存在的 schema（$ref），无法校验，请联系管理员修正表单", "$ref")

TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空值",
}


def escape_pointer_token(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path: Iterable[Any]) -> str:
    return "".join("/" + escape_pointer_token(p) for p in path)


def _message(error: ValidationError) -> str:
    kw, v = error.validator, error.validator_value
    match kw:
        case "required" | "dependentRequired":
            return "此项为必填项"
        case "type":
            names = v if isinstance(v, list) else [v]
            return "应填写" + "或".join(TYPE_NAMES.get(n, n) for n in names)
        case "maxLength":
            return f"最多填写 {v} 个字符"
        case "minLength":
            return "此项为必填项" if v == 1 else f"至少填写 {v} 个字符"
        case "maximum":
            return f"不能大于 {v}"
        case "minimum":
            return f"不能小于 {v}"
        case "exclusiveMaximum":
            return f"应小于 {v}"
        case "exclusiveMinimum":
            return f"应大于 {v}"
        case "maxItems":
            return f"最多填写 {v} 项"
        case "minItems":
            return f"至少填写 {v} 项"
        case "uniqueItems":
            return "各项不能重复"
        case "enum":
            return "请从给定选项中选择"
        case "const":
            return "取值不正确"
        case "pattern":
            return "格式不正确"
        case "format":
            return format_message(v, error.instance)
        case "additionalProperties" | "unevaluatedProperties":
            return "不允许的字段"
        case "multipleOf":
            return f"应为 {v} 的整数倍"
        case _:
            return "填写内容不符合要求"


def _problems_for(error: ValidationError) -> list[Problem]:
    path = list(error.absolute_path)
    kw = error.validator
    if kw == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return [(pointer(path + [m]), _message(error), kw) for m in missing]
    if kw == "dependentRequired":
        missing = [
            dep
            for trigger, deps in error.validator_value.items()
            if trigger in error.instance
            for dep in deps
            if dep not in error.instance
        ]
        return [(pointer(path + [m]), _message(error), kw) for m in missing]
    if kw in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        return [(pointer(path + [k]), _message(error), kw) for k in extras] or [
            (pointer(path), _message(error), kw)
        ]
    if _is_choice_list(error):
        return [(pointer(path), "请从给定选项中选择", "enum")]
    return [(pointer(path), _authored(error) or _message(error), kw)]


# Keywords a form author's own message (``errorMessage`` beside them: the 约束提示 of a form
# designed in Excel, fengqiao.forms.xlsform) replaces ours for; "required" and types keep ours.
AUTHORED_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                     "maxLength", "minItems", "maxItems", "pattern", "const", "not", "anyOf", "allOf")


def _authored(error: ValidationError) -> str | None:
    message = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    return message if isinstance(message, str) and message and error.validator in AUTHORED_KEYWORDS else None


def _is_choice_list(error: ValidationError) -> bool:
    """``oneOf: [{const, title}, …]`` is a coded choice list: report it like ``enum``."""
    options = error.validator_value
    return error.validator == "oneOf" and isinstance(options, list) and all(
        isinstance(o, dict) and "const" in o for o in options
    )


def _leaves(error: ValidationError) -> Iterable[ValidationError]:
    """Descend into combinators (if/then, allOf …) so messages name concrete fields."""
    if _is_choice_list(error):
        yield error
    elif error.context and error.validator in ("allOf", "if", "then", "else", "anyOf", "oneOf"):
        for child in error.context:
            yield from _leaves(child)
    else:
        yield error


# Every keyword of 2020-12 whose value is a schema, a list of schemas or a map of them.
SCHEMA_KEYWORDS = ("not", "if", "then", "else", "items", "contains", "additionalProperties",
                   "unevaluatedProperties", "unevaluatedItems", "propertyNames", "contentSchema")
SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "dependentSchemas")
REF_KEYWORDS = ("$ref", "$dynamicRef")


def schema_slots(
    schema: Any, path: list[Any] | None = None, keyword: str | None = None, base: str = ""
) -> Iterator[tuple[dict | bool, list[Any], str | None, str]]:
    """Every subschema, booleans included: (schema, path, keyword holding it, base URI).

    Only schema positions are walked: a ``"$ref"`` key inside ``const`` or ``enum`` is data."""
    path = path or []
    if isinstance(schema, bool):
        yield schema, path, keyword, base
        return
    if not isinstance(schema, dict):
        return  # not a schema: the meta-schema check reports it
    if isinstance(schema.get("$id"), str):
        base = urljoin(base, schema["$id"])
    yield schema, path, keyword, base
    for key, value in schema.items():
        if key in SCHEMA_KEYWORDS:
            yield from schema_slots(value, [*path, key], key, base)
        elif key in SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from schema_slots(sub, [*path, key, i], key, base)
        elif key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, sub in value.items():
                yield from schema_slots(sub, [*path, key, name], key, base)


def reference_faults(schema: dict, path: list[Any] | None = None) -> Iterator[tuple[list[Any], str, str, str]]:
    """``(path, keyword, ref, fault)`` for every ``$ref``/``$dynamicRef`` the validators could
    not follow inside ``schema`` itself: ``"external"`` (not a ``#`` fragment: it would leave
    the document), ``"missing"`` (names nothing) or ``"not_schema"`` (names a non-schema)."""
    resource = DRAFT202012.create_resource(schema)
    root = resource.id() or ""
    registry = LOCAL_ONLY.with_resource(root, resource)
    for sub, where, _, base in schema_slots(schema, path, None, root):
        if not isinstance(sub, dict):
            continue
        for keyword in REF_KEYWORDS:
            ref = sub.get(keyword)
            if not isinstance(ref, str):
                continue
            if not ref.startswith("#"):
                yield where, keyword, ref, "external"
                continue
            try:
                target = registry.resolver(base_uri=base).lookup(ref).contents
            except Unresolvable:
                yield where, keyword, ref, "missing"
                continue
            if not isinstance(target, dict | bool):
                yield where, keyword, ref, "not_schema"


class SchemaValidator:
    """One schema's compiled validators: ``fast`` (jsonschema-rs) says whether an instance is
    valid; ``reference`` (jsonschema) decides what ``fast`` rejects and lists the errors.
    ``broken_refs``: a ``$ref`` cannot be followed (see :func:`reference_faults`), so every
    instance gets the one :data:`BROKEN_REF` problem."""

    __slots__ = ("schema", "reference", "fast", "broken_refs")

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.broken_refs = next(reference_faults(schema), None) is not None
        self.reference = Draft202012Validator(schema, format_checker=FORMAT_CHECKER, registry=LOCAL_ONLY)
        self.fast = None if self.broken_refs else _fast_validator(schema)

    def is_valid(self, instance: Any) -> bool:
        if self.broken_refs:
            return False
        if self.fast is not None and self.fast.is_valid(instance):
            return True
        try:
            return self.reference.is_valid(instance)
        except Unresolvable:  # a dynamic reference resolved only at validation time
            return False

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]:
        return self.reference.iter_errors(instance)


# Regular-expression pieces that mean the same to Python's ``re`` and to jsonschema-rs, or
# where jsonschema-rs is the stricter (``\d`` is ASCII there, ``$`` takes no final newline):
# literals, ``\uXXXX``, ``.``, escaped metacharacters, classes without a nested ``[`` (so
# no ``[:alpha:]``), groups, alternation, anchors and counted quantifiers. ``\d`` is allowed
# only where it narrows what matches: not as ``\D`` nor inside ``[^…]`` (there ASCII-only
# would let ``٣`` or ``１`` through). ``\s``, ``\w``, ``\b`` and their negations, look-arounds,
# flags and ``\p{…}`` differ at the edges (a BOM is ``\s`` only to jsonschema-rs, ``é`` is
# ``\w`` only to Python): a schema using them is validated by the reference alone.
_LITERAL_ESCAPE = r"\\[.\-\\/()\[\]{}+*?|^$]|\\u[0-9a-fA-F]{4}"
_ESCAPE = rf"(?:\\d|{_LITERAL_ESCAPE})"
_CLASS = rf"\[(?!\^)(?:{_ESCAPE}|[^\\\[\]])+\]"
_NEGATED_CLASS = rf"\[\^(?:{_LITERAL_ESCAPE}|[^\\\[\]])+\]"
_PORTABLE_PATTERN = re.compile(
    rf"(?:{_ESCAPE}|\(\?:|\((?!\?)|\{{\d+(?:,\d*)?\}}|{_CLASS}|{_NEGATED_CLASS}|[^\\\[\]{{}}(])*"
)


def _portable(node: Any) -> bool:
    """Whether the fast validator may decide "valid" for this schema on its own: every
    ``pattern`` is in the shared dialect and no ``multipleOf`` is fractional (the reference
    divides in binary floating point: 19.99 is no multiple of 0.01 there)."""
    if isinstance(node, list):
        return all(_portable(item) for item in node)
    if not isinstance(node, dict):
        return True
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str) and not _PORTABLE_PATTERN.fullmatch(value):
            return False
        if key == "patternProperties" and isinstance(value, dict) and not all(
                _PORTABLE_PATTERN.fullmatch(k) for k in value):
            return False
        if key == "multipleOf" and isinstance(value, (int, float)) and not float(value).is_integer():
            return False
        if not _portable(value):
            return False
    return True


def _fast_validator(schema: dict) -> Any:
    """The jsonschema-rs twin, with every format the reference knows answered by the same
    Python checker (so ``cn-id-card`` or ``email`` mean the same in both); None when the
    schema is not portable (see ``_portable``) or jsonschema-rs cannot compile it — the
    reference alone then validates."""
    import jsonschema_rs

    if not _portable(schema):
        return None
    formats = {name: (lambda value, name=name: FORMAT_CHECKER.conforms(value, name))
               for name in FORMAT_CHECKER.checkers}
    try:
        return jsonschema_rs.Draft202012Validator(schema, formats=formats, validate_formats=True,
                                                  ignore_unknown_formats=True, offline=True)
    except ValueError:  # jsonschema_rs.ValidationError included
        return None


@lru_cache(maxsize=512)
def _compiled(schema_json: str) -> SchemaValidator:
    return SchemaValidator(json.loads(schema_json))


def validator_for(schema: dict) -> SchemaValidator:
    """A cached compiled validator (keyed by the schema's canonical JSON)."""
    return _compiled(json.dumps(schema, sort_keys=True, ensure_ascii=False))


def problems(validator: SchemaValidator | Draft202012Validator, instance: Any) -> list[Problem]:
    """Every problem once, in document order; the first message per pointer wins.

    A ``$ref`` that cannot be resolved locally (a definition stored before forms check
    refused it) is the definition's fault, reported as one ``$ref`` problem, not a 500."""
    if getattr(validator, "broken_refs", False):
        return [BROKEN_REF]
    if getattr(validator, "fast", None) is not None and validator.fast.is_valid(instance):
        return []
    try:
        errors = list(validator.iter_errors(instance))
    except Unresolvable:
        return [BROKEN_REF]
    seen: dict[tuple[str, str], Problem] = {}
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaves(error):
            for problem in _problems_for(leaf):
                seen.setdefault((problem[0], problem[2]), problem)
    by_pointer: dict[str, Problem] = {}
    for problem in seen.values():
        by_pointer.setdefault(problem[0], problem)
    return list(by_pointer.values())


def validate(schema: dict, instance: Any) -> None:
    """Raise :class:`~fengqiao.exceptions.Invalid` with Chinese field messages when ``instance`` is invalid."""
    found = problems(validator_for(schema), instance)
    if found:
        raise Invalid(found)
