"""Spreadsheet columns and cells → a form's JSON data, for the bulk case import.

People export these files from other systems or type them in Excel, so a column may be
named by the field's Chinese title or its key (nested fields as ``location.address``,
``发生地点.详细地址`` or just ``详细地址`` when that is unambiguous), and a cell may be what
Excel made of it: a number for a phone number, a ``datetime`` for a date, 是/否 for a
boolean, a choice's title instead of its code. Cells are converted to the schema's types
where that is unambiguous; anything else is passed through unchanged, so the form's own
validator reports it with its usual Chinese message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from fengqiao.db import LOCAL_TZ
from fengqiao.input_guard import too_deep

ORG_LABELS = ("所属单位", "所属单位代码", "单位代码", "org")
IGNORED_LABELS = ("行号", "问题")  # the rejected-rows report's own columns
TRUE_WORDS = {"是", "true", "yes", "y", "1", "√", "✓", "对", "有"}
FALSE_WORDS = {"否", "false", "no", "n", "0", "×", "✗", "不", "无"}
_SPLIT = re.compile(r"[、,，;；\n]+")
_INT = re.compile(r"[+-]?\d+(\.0+)?")
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATETIME = re.compile(_DATE.pattern + r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class CellProblem(ValueError):
    """A cell that cannot be imported whatever it holds (e.g. an attachment)."""


@dataclass(frozen=True)
class Field:
    """A leaf the file can fill: its path in the data, its schema and the title to show."""

    path: tuple[str, ...]
    schema: dict
    title: str
    required: bool = False  # within its object (a nested field)


def _type(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def leaf_fields(schema: dict) -> list[Field]:
    """Top-level fields, with an object's properties as their own (dotted) fields."""
    found = []
    for key, prop in (schema.get("properties") or {}).items():
        title = prop.get("title") or key
        if _type(prop) == "object" and prop.get("properties"):
            needed = set(prop.get("required") or ())
            for child, sub in prop["properties"].items():
                found.append(Field((key, child), sub, f"{title}.{sub.get('title') or child}", child in needed))
        else:
            found.append(Field((key,), prop, title))
    return found


def labels(fields: list[Field], schema: dict) -> dict[str, Field | None]:
    """Every name a column may carry → its field (None: the name fits several fields)."""
    names: dict[str, Field | None] = {}

    def add(name: str, f: Field) -> None:
        if name in names and names[name] != f:
            names[name] = None
        else:
            names[name] = f

    props = schema.get("properties") or {}
    for f in fields:
        add(".".join(f.path), f)
        add(f.title, f)
        if len(f.path) == 2:
            parent = props[f.path[0]]
            add(f"{f.path[0]}.{f.schema.get('title') or f.path[1]}", f)
            add(f"{parent.get('title') or f.path[0]}.{f.path[1]}", f)
    for f in fields:  # a nested field's own title, when nothing else answers to it
        if len(f.path) == 2:
            short = f.schema.get("title") or f.path[1]
            if short not in names:
                names[short] = f
            elif names[short] is not f and names[short] is not None and len(names[short].path) == 2:
                names[short] = None
    return names


def text(value: Any) -> str:
    """A cell as the text a person sees (``13800001111`` rather than ``13800001111.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _choice(value: str, schema: dict) -> Any:
    options = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(options, list) and all(isinstance(o, dict) and "const" in o for o in options):
        for o in options:
            if value == str(o["const"]) or value == o.get("title"):
                return o["const"]
    for option in schema.get("enum") or ():
        if value == str(option):
            return option
    return value


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    match = _DATE.fullmatch(text(value))
    if match:
        try:
            return date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    return text(value)


def _datetime(value: Any) -> Any:
    """Excel's naive datetimes and ``2026-03-01 09:30`` are local (Asia/Shanghai) times."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
        return moment.isoformat()
    raw = text(value)
    match = _DATETIME.fullmatch(raw)
    if match:
        y, m, d, hh, mm, ss = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(y, m, d, hh, mm, ss, tzinfo=LOCAL_TZ).isoformat()
        except ValueError:
            pass
    return raw


def _scalar(value: Any, schema: dict) -> Any:
    kind = _type(schema)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = text(value).lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else text(value)
    if kind == "integer":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        raw = text(value)
        return int(float(raw)) if _INT.fullmatch(raw) else raw
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raw = text(value)
        if _NUMBER.fullmatch(raw):
            number = float(raw.replace(",", ""))
            return int(number) if number.is_integer() and "." not in raw else number
        return raw
    if schema.get("format") == "attachment":
        raise CellProblem("批量导入不支持附件，请留空，导入后在事项中补充")
    if schema.get("format") == "date":
        return _date(value)
    if schema.get("format") == "date-time":
        return _datetime(value)
    return _choice(text(value), schema)


def _json_cell(value: Any, shape: type, message: str) -> Any:
    """A cell holding JSON of ``shape`` (list or dict); ``message`` says what to write instead."""
    if too_deep(text(value)):  # a cell of 30,000 '[' would overflow the parser
        raise CellProblem(message)
    try:
        parsed = json.loads(text(value))
    except ValueError as err:
        raise CellProblem(message) from err
    if not isinstance(parsed, shape):
        raise CellProblem(message)
    return parsed



def convert(value: Any, schema: dict) -> Any:
    """A cell's value in the field's type; ``None`` for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = _type(schema)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if items.get("format") == "attachment":
            raise CellProblem("批量导入不支持附件，请留空，导入后在事项中补充")
        if _type(items) == "object":
            return _json_cell(value, list, "应填写 JSON 数组，如 [{\"name\": \"张三\"}]")
        return [_scalar(part, items) for part in _SPLIT.split(text(value)) if part.strip()]
    if kind == "object":
        return _json_cell(value, dict, "应按子项分列填写（如「地点.详细地址」），或填写 JSON 对象")
    return _scalar(value, schema)
