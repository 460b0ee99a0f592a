"""Mask personal data on the server (DOMAIN.md §6): 110105********0123, 138****8000, 张*.

The one masking layer: API and HTML details and lists, exports, notifications, the public
board, tracking and the logs all go through these functions, so no view can forget a field.
Seeing a value in full is an explicit, audited reveal (``fengqiao.audit``).

Which fields are personal follows from the form definition (``form_definitions/README.md``):

- the ``cn-id-card`` and ``cn-mobile`` formats always are;
- ``ui.personal`` maps field paths (``caller_name``, ``location.address``,
  ``parties[].name``) to how they are masked: ``name``, ``address``, ``id-card``,
  ``mobile``, ``text`` (numbers inside masked) or ``secret`` (hidden entirely); a mark on
  a fieldset or repeatable group applies to every string inside it. The marks live in
  ``ui`` because they change how data is shown, never what is valid, so adding one is a
  compatible change (a new version, no ``--allow-breaking``). Marks of a form's latest
  version also apply to data submitted under older versions (:func:`marked_schema`).

Internally a marked schema node carries ``"x-personal": kind``.

Free text that is not marked personal (descriptions, comments, titles) still has ID,
mobile and landline numbers inside it masked (:func:`mask_text`).
"""

from __future__ import annotations

import re
from typing import Any

SENSITIVE_FORMATS = {"cn-id-card": "id-card", "cn-mobile": "mobile"}
PERSONAL_KINDS = ("name", "address", "id-card", "mobile", "text", "secret")
HIDDEN = "******"  # a wholly hidden value; the same length whatever the value was

# Compound surnames keep both characters (欧阳**); DOMAIN.md §6.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 澹台 "
    "公冶 端木 呼延 南宫 西门 百里 东郭 独孤 万俟 闻人 申屠 太史 濮阳 单于 仲孙 赫连".split()
)


def mask_id_card(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:] if len(value) >= 12 else "*" * len(value)


def mask_mobile(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_name(value: str) -> str:
    """张* , 欧阳**: the surname stays, every other character becomes ``*``."""
    if not value:
        return value
    value = value.strip()
    keep = 2 if len(value) >= 3 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:keep] + "*" * (len(value) - keep)


# An address is shown down to the building (揽月花园3幢****); without a building, down to
# the street or estate name before the first house number (东湖路****).
_BUILDING = re.compile(r"^.*?[0-9０-９一二三四五六七八九十百]+\s*(?:幢|栋|号楼|座|楼)")
_FIRST_NUMBER = re.compile(r"[0-9０-９]")


def mask_address(value: str) -> str:
    if not value:
        return value
    building = _BUILDING.match(value)
    if building:
        rest = value[building.end():]
        return building.group(0) + ("****" if rest.strip() else "")
    number = _FIRST_NUMBER.search(value)
    if number:
        return value[:number.start()] + "****"
    return value


def mask_secret(value: str) -> str:
    return HIDDEN if value else value


MASKERS = {
    "id-card": mask_id_card, "mobile": mask_mobile, "name": mask_name, "address": mask_address,
    "text": lambda v: mask_text(v), "secret": mask_secret,
}


PERSONAL_UI_KEY = "personal"
MARK = "x-personal"


def _node(schema: dict, path: str) -> dict | None:
    """The schema node at a ``ui`` path (``a.b``, ``group[].field``) inside ``schema``."""
    node: Any = schema
    for part in path.replace("[]", ".[]").split("."):
        if not isinstance(node, dict):
            return None
        if part == "[]":
            node = node.get("items")
        else:
            node = (node.get("properties") or {}).get(part)
    return node if isinstance(node, dict) else None


def marked_schema(*definitions: dict | None) -> dict:
    """The first definition's schema with the ``ui.personal`` marks of all of them applied
    (pass the submission's version, then the form's latest: marks added later count)."""
    import copy

    first = next((d for d in definitions if d), None) or {}
    schema = copy.deepcopy(first.get("schema") or {})
    for definition in definitions:
        marks = ((definition or {}).get("ui") or {}).get(PERSONAL_UI_KEY) or {}
        for path, kind in marks.items() if isinstance(marks, dict) else ():
            node = _node(schema, path)
            if node is not None and kind in PERSONAL_KINDS and MARK not in node:
                node[MARK] = kind
    return schema


def personal_kind(schema: dict | None) -> str | None:
    """How a field is personal (``"mobile"``, ``"name"`` …), or None when it is not."""
    if not isinstance(schema, dict):
        return None
    by_format = SENSITIVE_FORMATS.get(schema.get("format"))
    if by_format:
        return by_format
    mark = schema.get(MARK)
    return mark if mark in PERSONAL_KINDS else None


def is_sensitive(schema: dict) -> bool:
    return personal_kind(schema) is not None


def mask_as(kind: str | None, value: Any) -> Any:
    """``value`` masked as ``kind``; free text of unmarked fields has its numbers masked."""
    if not isinstance(value, str):
        return value
    if kind is None:
        return mask_text(value)
    return MASKERS[kind](value)


def mask_value(schema: dict, value: Any) -> Any:
    return mask_as(personal_kind(schema), value)


def mask_data(schema: dict, data: Any, inherited: str | None = None) -> Any:
    """A copy of ``data`` with every personal value masked (and numbers in free text)."""
    kind = personal_kind(schema) or inherited
    if isinstance(data, dict):
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        return {k: mask_data(props.get(k, {}), v, kind) for k, v in data.items()}
    if isinstance(data, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        return [mask_data(items if isinstance(items, dict) else {}, v, kind) for v in data]
    return mask_as(kind, data)


def personal_pointers(schema: dict, prefix: str = "") -> list[str]:
    """JSON pointers of the personal fields (``/parties/*/mobile``; ``*`` is any index)."""
    found: list[str] = []
    if not isinstance(schema, dict):
        return found
    if personal_kind(schema) and prefix:
        return [prefix]
    for name, prop in (schema.get("properties") or {}).items():
        found += personal_pointers(prop, f"{prefix}/{name}")
    items = schema.get("items")
    if isinstance(items, dict):
        found += personal_pointers(items, f"{prefix}/*")
    return found


def schema_at(schema: dict, parts: list[str]) -> tuple[dict, str | None]:
    """The subschema a pointer's parts lead to, and the personal kind on the way (marks on
    containers apply to what is inside)."""
    kind = personal_kind(schema)
    for part in parts:
        if not isinstance(schema, dict):
            return {}, kind
        if schema.get("type") == "array" or "items" in schema:
            schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        else:
            schema = (schema.get("properties") or {}).get(part, {})
        kind = personal_kind(schema) or kind
    return schema, kind


# Free text (titles, replies shown publicly, log lines): digit runs that look like an ID
# number, a mobile (optionally +86 and spaced/dashed) or a landline with its area code.
_PERSONAL_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"(?P<id>\d{17}[\dXx]|\d{15})"
    r"|(?P<mobile>(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4})"
    r"|(?P<landline>0\d{2,3}[- ]?\d{7,8})"
    r")(?![0-9A-Za-z])"
)


def _mask_match(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if match.group("id"):
        return mask_id_card(match.group(0))
    if match.group("mobile"):
        return mask_mobile(digits[-11:])
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def mask_text(text: str | None) -> str:
    """``text`` with phone and ID numbers inside it masked (``138****8000``)."""
    return _PERSONAL_NUMBER.sub(_mask_match, text or "")
