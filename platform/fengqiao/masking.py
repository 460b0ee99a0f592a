"""Mask personal data on the server (docs/domain.md, "Personal data"): 110105********0123,
138****8000, 张*.

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

Hidden from the handling unit (``ui.hidden_from_handler``): some fields are not masked but
withheld entirely from whoever handles the case (a 举报 caller's identity), when the mark's
condition holds for the submitted data (:class:`HiddenRule`). Who is the handling unit and
who the accepting level is decided in :mod:`fengqiao.cases.visibility`; here a hidden node
carries ``"x-hidden": true`` (it and everything inside it) and shows as ``******``
whatever its type (:data:`HIDDEN_KIND`).

Free text that is not marked personal (descriptions, comments, titles) still has ID,
mobile and landline numbers inside it masked (:func:`mask_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SENSITIVE_FORMATS = {"cn-id-card": "id-card", "cn-mobile": "mobile"}
PERSONAL_KINDS = ("name", "address", "id-card", "mobile", "text", "secret")
HIDDEN = "******"  # a wholly hidden value; the same length whatever the value was

# Compound surnames keep both characters (欧阳**); docs/domain.md, "Personal data".
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 澹台 "
    "公冶 端木 呼延 南宫 西门 百里 东郭 独孤 万俟 闻人 申屠 太史 濮阳 单于 仲孙 赫连".split()
)


def mask_id_card(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:] if len(value) >= 12 else "*" * len(value)


def mask_mobile(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_email(value: str) -> str:
    """z***@example.com: the first character and the domain stay."""
    if not value or "@" not in value:
        return "*" * len(value or "")
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


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
    if schema.get(HIDDEN_MARK) is True:
        return HIDDEN_KIND
    by_format = SENSITIVE_FORMATS.get(schema.get("format"))
    if by_format:
        return by_format
    mark = schema.get(MARK)
    return mark if mark in PERSONAL_KINDS else None


def is_sensitive(schema: dict) -> bool:
    return personal_kind(schema) is not None


def mask_as(kind: str | None, value: Any) -> Any:
    """``value`` masked as ``kind``; free text of unmarked fields has its numbers masked."""
    if kind == HIDDEN_KIND:  # withheld whatever it is: a flag or a count says something too
        return value if value is None or value == "" or value == [] or value == {} else HIDDEN
    if not isinstance(value, str):
        return value
    if kind is None:
        return mask_text(value)
    return MASKERS[kind](value)


def mask_value(schema: dict, value: Any) -> Any:
    return mask_as(personal_kind(schema), value)


def mask_data(schema: dict, data: Any, inherited: str | None = None) -> Any:
    """A copy of ``data`` with every personal value masked (and numbers in free text)."""
    kind = HIDDEN_KIND if inherited == HIDDEN_KIND else personal_kind(schema) or inherited
    if kind == HIDDEN_KIND:
        return mask_as(kind, data)
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
        kind = kind if kind == HIDDEN_KIND else personal_kind(schema) or kind
    return schema, kind


# ---- hidden from the handling unit (ui.hidden_from_handler) ---------------------------------

HIDDEN_UI_KEY = "hidden_from_handler"
HIDDEN_MARK = "x-hidden"
HIDDEN_KIND = "hidden"
# Org levels that may accept a case (and so see and reveal what is hidden from its handlers),
# highest first; the mark's ``accepting_level`` names the lowest one allowed.
ACCEPTING_LEVELS = ("county", "street")
DEFAULT_ACCEPTING_LEVEL = "county"
CONDITION_TYPES = (str, bool)  # the values a ``when`` may list (enum choices, checkboxes)


@dataclass(frozen=True)
class HiddenRule:
    """One form's ``ui.hidden_from_handler``: ``fields`` (ui paths) are hidden when any
    ``when`` field (top level) holds one of its listed values, or always without ``when``."""

    fields: tuple[str, ...]
    when: tuple[tuple[str, tuple[Any, ...]], ...]
    accepting_level: str

    @classmethod
    def of(cls, definition: dict | None) -> HiddenRule | None:
        mark = ((definition or {}).get("ui") or {}).get(HIDDEN_UI_KEY)
        if not isinstance(mark, dict) or not isinstance(mark.get("fields"), list):
            return None
        when = mark.get("when") if isinstance(mark.get("when"), dict) else {}
        level = mark.get("accepting_level")
        return cls(tuple(f for f in mark["fields"] if isinstance(f, str)),
                   tuple((k, tuple(v)) for k, v in when.items() if isinstance(v, list)),
                   level if level in ACCEPTING_LEVELS else DEFAULT_ACCEPTING_LEVEL)

    def applies(self, data: Any) -> bool:
        if not self.when:
            return True
        data = data if isinstance(data, dict) else {}
        # ``True == 1`` in Python: compare types too, so a flag never matches a number.
        return any(any(type(data.get(name)) is type(v) and data.get(name) == v for v in values)
                   for name, values in self.when)


def hidden_rules(*definitions: dict | None) -> list[HiddenRule]:
    """The marks of the given versions (the submission's and the form's latest)."""
    return [rule for d in definitions if (rule := HiddenRule.of(d)) is not None]


def hidden_fields(data: Any, *definitions: dict | None) -> tuple[frozenset[str], str]:
    """The ui paths hidden from the handling unit for ``data``, and the accepting level (the
    highest any applying mark asks for); ``(frozenset(), …)`` when nothing is hidden."""
    applying = [r for r in hidden_rules(*definitions) if r.applies(data)]
    paths = frozenset(f for r in applying for f in r.fields)
    level = min((r.accepting_level for r in applying), key=ACCEPTING_LEVELS.index,
                default=DEFAULT_ACCEPTING_LEVEL)
    return paths, level


def _mark_hidden(node: Any) -> None:
    """``node`` and every node inside it carry the hidden mark (a format or personal mark
    deeper down must not bring a value back)."""
    if not isinstance(node, dict):
        return
    node[HIDDEN_MARK] = True
    for child in (node.get("properties") or {}).values():
        _mark_hidden(child)
    _mark_hidden(node.get("items"))


def hide(definition: dict, paths: frozenset[str] | set[str]) -> dict:
    """A copy of ``definition`` whose schema hides ``paths`` (ui paths) entirely."""
    import copy

    if not paths:
        return definition
    schema = copy.deepcopy(definition.get("schema") or {})
    for path in paths:
        _mark_hidden(_node(schema, path))
    return {**definition, "schema": schema}


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
