"""Mask personal data on the server (DOMAIN.md §6): 110105********0123, 138****8000, 张*.

Lists, details and exports show masked values; seeing one in full is an explicit,
audited reveal. Which fields are personal follows from the form schema: the ``cn-id-card``
and ``cn-mobile`` formats always are.
"""

from __future__ import annotations

import re
from typing import Any

SENSITIVE_FORMATS = {"cn-id-card", "cn-mobile"}


def mask_id_card(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:] if len(value) >= 12 else "*" * len(value)


def mask_mobile(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if value else value


MASKERS = {"cn-id-card": mask_id_card, "cn-mobile": mask_mobile}


def is_sensitive(schema: dict) -> bool:
    return schema.get("format") in SENSITIVE_FORMATS


def mask_value(schema: dict, value: Any) -> Any:
    masker = MASKERS.get(schema.get("format"))
    return masker(value) if masker and isinstance(value, str) else value


def mask_data(schema: dict, data: Any) -> Any:
    """A copy of ``data`` with every value of a sensitive field masked."""
    if isinstance(data, dict):
        props = schema.get("properties", {})
        return {k: mask_data(props.get(k, {}), v) for k, v in data.items()}
    if isinstance(data, list):
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        return [mask_data(items, v) for v in data]
    return mask_value(schema, data)


# Free text (titles, replies shown publicly): digit runs that look like an ID number, a
# mobile (optionally +86 and spaced/dashed) or a landline with its area code.
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
