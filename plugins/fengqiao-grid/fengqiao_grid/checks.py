"""Checks the plugin's services share.

``schema_problems`` collects a body's schema problems instead of raising them, so that a
service can add its own (an ID number, a date order) and report every problem at once;
``cell_text`` reads a workbook cell as the text a person typed (Excel stores 602 as 602.0).
"""

from __future__ import annotations

from typing import Any

from fengqiao.sdk.errors import DomainError
from fengqiao.sdk.web import validate


def schema_problems(schema: dict, data: dict) -> list:
    """The problems ``validate`` finds in ``data`` (pointer, message, code), or []."""
    try:
        validate(schema, data)
    except DomainError as err:
        return list(err.problems)
    return []


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
