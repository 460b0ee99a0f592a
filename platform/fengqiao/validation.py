"""JSON-Schema validation with one Chinese message per field and the contract's pointers.

Validators are compiled once per schema and cached (``jsonschema.validate`` rebuilds the
validator on every call, ~40× slower). Errors become ``(pointer, message, code)`` where
``code`` is the JSON-Schema keyword and ``pointer`` names the field the user must fix: the
missing field for ``required``/``dependentRequired``, the unknown key for
``additionalProperties``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from fengqiao.errors import Problem, ValidationFailed

FORMAT_CHECKER = FormatChecker()

TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空值",
}

FORMAT_MESSAGES = {
    "email": "请输入有效的电子邮箱地址",
    "date": "请输入有效的日期（如 2026-01-31）",
    "date-time": "请输入有效的日期时间",
    "time": "请输入有效的时间",
    "uri": "请输入有效的网址",
    "cn-id-card": "身份证号码格式不正确",
    "cn-mobile": "请输入 11 位手机号码",
    "cn-uscc": "统一社会信用代码不正确",
    "cn-postcode": "邮政编码应为 6 位数字",
    "attachment": "附件无效，请重新上传",
}

# Per-format hooks giving a more specific message for a failing value (None: use
# FORMAT_MESSAGES). Filled by the modules that register formats (fengqiao.forms.formats),
# so this module never imports them at load time.
FORMAT_DETAIL: dict[str, Callable[[Any], str | None]] = {}


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
            detail = FORMAT_DETAIL.get(v)
            specific = detail(error.instance) if detail is not None else None
            return specific or FORMAT_MESSAGES.get(v, "格式不正确")
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
    return [(pointer(path), _message(error), kw)]


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


@lru_cache(maxsize=512)
def _compiled(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FORMAT_CHECKER)


def validator_for(schema: dict) -> Draft202012Validator:
    """A cached compiled validator (keyed by the schema's canonical JSON).

    Imports the custom formats first: they register themselves on ``FORMAT_CHECKER`` and
    import this module, so a top-level import here would be a cycle.
    """
    import fengqiao.forms.formats  # noqa: F401

    return _compiled(json.dumps(schema, sort_keys=True, ensure_ascii=False))


def problems(validator: Draft202012Validator, instance: Any) -> list[Problem]:
    """Every problem once, in document order; the first message per pointer wins."""
    seen: dict[tuple[str, str], Problem] = {}
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaves(error):
            for problem in _problems_for(leaf):
                seen.setdefault((problem[0], problem[2]), problem)
    by_pointer: dict[str, Problem] = {}
    for problem in seen.values():
        by_pointer.setdefault(problem[0], problem)
    return list(by_pointer.values())


def validate(schema: dict, instance: Any) -> None:
    """Raise :class:`ValidationFailed` with Chinese field messages when ``instance`` is invalid."""
    found = problems(validator_for(schema), instance)
    if found:
        raise ValidationFailed(found)
