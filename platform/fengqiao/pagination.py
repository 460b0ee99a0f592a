"""Keyset pagination: pages cost the same at page 1 and page 10,000 (no OFFSET, no count).

A page is ordered by one unique column (``Case.id``) or by several columns whose last one
is unique (``(Case.deadline, Case.id)``: queues sorted by deadline). The cursor carries the
last row's key values, so the next page starts right after it; sort columns must be NOT
NULL in the rows selected (filter NULLs out first), because NULL never compares.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.input_guard import too_deep
from fengqiao.params import parse_int

MAX_CURSOR = 2**63 - 1  # a BIGINT key; anything longer is not a cursor this module wrote

BAD_CURSOR = "翻页参数无效，请从第一页重新开始"


def _bad_cursor(pointer: str = "/cursor") -> Invalid:
    return Invalid([(pointer, BAD_CURSOR, "cursor")])


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, pointer: str = "/cursor") -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor(pointer) from None


@dataclass
class Page:
    items: list
    next_cursor: str | None


def _as_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _parse(raw: str, key: InstrumentedAttribute) -> Any:
    """A cursor value back in the column's Python type (422 when it cannot be)."""
    column_type = key.type.impl_instance if isinstance(key.type, sa.TypeDecorator) else key.type
    kind = column_type.python_type
    if kind is int:
        value = parse_int(raw, minimum=-MAX_CURSOR, maximum=MAX_CURSOR)
        if value is None:
            raise _bad_cursor()
        return value
    if kind is datetime:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise _bad_cursor() from None
        if value.tzinfo is None:
            raise _bad_cursor()
        return value
    if kind is date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad_cursor() from None
    return raw


def _after(keys: Sequence[InstrumentedAttribute], values: Sequence[Any], descending: bool):
    """Rows strictly past ``values`` in the order of ``keys``: ``k1 > v1 OR (k1 = v1 AND
    (k2 > v2 OR …))`` — spelled out rather than a row-value comparison, which not every
    backend turns into an index range."""
    key, value = keys[0], values[0]
    past = key < value if descending else key > value
    if len(keys) == 1:
        return past
    return sa.or_(past, sa.and_(key == value, _after(keys[1:], values[1:], descending)))


def keyset_page(
    stmt: sa.Select,
    key: InstrumentedAttribute | Sequence[InstrumentedAttribute],
    cursor: str | None,
    limit: int,
    descending: bool = True,
) -> Page:
    """One page of ``stmt`` ordered by ``key``: a unique column (integer, string or
    datetime), or a sequence of columns whose last one is unique. A ``select`` of one entity
    pages its objects; of several entities or columns, its rows — the keys then belong to the
    first entity (``select(Team, member_count)``)."""
    keys = list(key) if isinstance(key, list | tuple) else [key]
    raw = decode_cursor(cursor)
    if raw is not None:
        if len(keys) == 1:
            values = [_parse(raw, keys[0])]
        else:
            if too_deep(raw):  # a forged cursor must not overflow the parser
                raise _bad_cursor()
            try:
                texts = json.loads(raw)
            except ValueError:
                raise _bad_cursor() from None
            if not isinstance(texts, list) or len(texts) != len(keys) or not all(
                isinstance(t, str) for t in texts
            ):
                raise _bad_cursor()
            values = [_parse(t, k) for t, k in zip(texts, keys, strict=True)]
        stmt = stmt.where(_after(keys, values, descending))
    stmt = stmt.order_by(*(k.desc() if descending else k.asc() for k in keys)).limit(limit + 1)
    single = len(stmt.column_descriptions) == 1
    rows = list(db.scalars(stmt).unique()) if single else list(db.execute(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor_after(rows[-1] if single else rows[-1][0], keys) if more and rows else None
    return Page(rows, next_cursor)


def cursor_after(obj: Any, key: InstrumentedAttribute | Sequence[InstrumentedAttribute]) -> str:
    """The cursor of the page that starts right after ``obj`` in the order of ``key`` (as
    :func:`keyset_page` writes it; a numbered page hands one on to "下一页")."""
    keys = list(key) if isinstance(key, list | tuple) else [key]
    last = [getattr(obj, k.key) for k in keys]
    return encode_cursor(_as_text(last[0]) if len(keys) == 1 else json.dumps([_as_text(v) for v in last]))


def capped_label(count: int, cap: int) -> str:
    """A badge's text for a count that stopped at ``cap + 1`` rows: 「99+」 past the cap (the
    queue tabs and the inbox bell count no further, so their cost does not grow)."""
    return f"{cap}+" if count > cap else str(count)
