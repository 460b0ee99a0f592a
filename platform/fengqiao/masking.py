"""Mask personal data on the server (DOMAIN.md §6): 110105********0123, 138****8000, 张*.

Lists, details and exports show masked values; seeing one in full is an explicit,
audited reveal. Which fields are personal follows from the form schema: the ``cn-id-card``
and ``cn-mobile`` formats always are.
"""

from __future__ import annotations

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
