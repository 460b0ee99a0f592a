"""Readable, unique case numbers (``WG-20261125-000123``) and residents' tracking codes."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fengqiao.db import LOCAL_TZ
from fengqiao.models import Case, CaseCounter

# Letters and digits a resident cannot confuse when reading a code aloud (no 0/O, 1/I/L).
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 8


def _upsert(dialect: str) -> sa.Insert:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(CaseCounter)
    stmt = insert.values(prefix=sa.bindparam("prefix"), day=sa.bindparam("day"), last=sa.bindparam("count"))
    return stmt.on_conflict_do_update(
        index_elements=[CaseCounter.prefix, CaseCounter.day],
        set_={"last": CaseCounter.last + stmt.excluded.last},
    ).returning(CaseCounter.last)


# Built once per dialect: SQLAlchemy then finds the compiled form by the object's cached key.
_RESERVE = {name: _upsert(name) for name in ("postgresql", "sqlite")}


def reserve_serials(conn: sa.Connection | Session, prefix: str, day: str, count: int = 1) -> int:
    """Take ``count`` consecutive serials for ``prefix`` on ``day`` (YYYYMMDD); returns the first.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: concurrent submissions,
    imports and generators on SQLite or PostgreSQL never get the same number.
    """
    dialect = conn.dialect if isinstance(conn, sa.Connection) else conn.get_bind().dialect
    last = conn.execute(_RESERVE[dialect.name], {"prefix": prefix, "day": day, "count": count}).scalar_one()
    return last - count + 1


def local_day(now: datetime) -> str:
    """The day (Asia/Shanghai, ``YYYYMMDD``) whose serials a case created at ``now`` takes."""
    return now.astimezone(LOCAL_TZ).strftime("%Y%m%d")


def case_number(prefix: str, day: str, serial: int) -> str:
    """``WG-20261125-000123``: six digits at least (more once a day passes 999,999)."""
    return f"{prefix}-{day}-{serial:06d}"


def take_case_ids(conn: sa.Connection, count: int) -> list[int]:
    """Ids for ``count`` new cases inserted in bulk: from the sequence on PostgreSQL; on SQLite
    the ones after the largest (the caller's transaction already holds the write lock)."""
    if conn.dialect.name == "postgresql":
        return conn.execute(sa.text("SELECT nextval(pg_get_serial_sequence('cases', 'id')) "
                                    "FROM generate_series(1, :n)"), {"n": count}).scalars().all()
    last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(Case.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
