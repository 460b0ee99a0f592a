"""Keyset pagination: pages cost the same at page 1 and page 10,000 (no OFFSET, no count)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from fengqiao.db import db
from fengqiao.errors import APIError


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, pointer: str = "/cursor") -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise APIError(422, [(pointer, "翻页参数无效，请从第一页重新开始", "cursor")]) from None


@dataclass
class Page:
    items: list
    next_cursor: str | None


def keyset_page(
    stmt: sa.Select, key: InstrumentedAttribute, cursor: str | None, limit: int, descending: bool = True
) -> Page:
    """One page of ``stmt`` ordered by the unique column ``key`` (integer or string)."""
    after: Any = decode_cursor(cursor)
    if after is not None:
        if key.type.python_type is int:
            if not after.lstrip("-").isdigit():
                raise APIError(422, [("/cursor", "翻页参数无效，请从第一页重新开始", "cursor")])
            after = int(after)
        stmt = stmt.where(key < after if descending else key > after)
    stmt = stmt.order_by(key.desc() if descending else key.asc()).limit(limit + 1)
    rows = list(db.scalars(stmt).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return Page(rows, next_cursor)
