"""Normalise submitted data before validation, the same for HTML and API.

All strings are NFC-normalised (so 4-byte characters and composed forms round-trip the
same way), fields the definition lists in ``ui.trim`` are trimmed, ID numbers get an
uppercase X, and empty values ("" / None / [] / {}) are dropped: an empty optional field is
absent, and an empty required one is reported as ``required``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

EMPTY = ("", None)


def _is_empty(value: Any) -> bool:
    return value in EMPTY or value == [] or value == {}


def normalise(value: Any, schema: dict, trim: set[str], path: str = "") -> Any:
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
        if path in trim:
            value = value.strip()
        if schema.get("format") == "cn-id-card":
            value = value.strip().upper()
        return value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out = {}
        for key, item in value.items():
            child = normalise(item, props.get(key, {}), trim, f"{path}.{key}" if path else key)
            if not _is_empty(child):
                out[key] = child
        return out
    if isinstance(value, list):
        items_schema = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        cleaned = [normalise(v, items_schema, trim, f"{path}[]") for v in value]
        if items_schema.get("type") == "object":
            return cleaned  # keep row positions so errors point at the right row
        return [v for v in cleaned if not _is_empty(v)]
    return value
