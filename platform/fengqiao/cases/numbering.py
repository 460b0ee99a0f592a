"""Readable, unique case numbers (``WG-20261125-000123``) and residents' tracking codes."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.models import CaseCounter

# Letters and digits a resident cannot confuse when reading a code aloud (no 0/O, 1/I/L).
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 8


def next_case_number(prefix: str, now: datetime | None = None) -> str:
    """Atomically take the next number for ``prefix`` today (Asia/Shanghai), gap-free per day.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: concurrent submissions
    on SQLite or PostgreSQL never get the same number.
    """
    day = (now or utcnow()).astimezone(LOCAL_TZ).strftime("%Y%m%d")
    dialect = db.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    stmt = (
        insert(CaseCounter)
        .values(prefix=prefix, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[CaseCounter.prefix, CaseCounter.day],
            set_={"last": CaseCounter.last + 1},
        )
        .returning(CaseCounter.last)
    )
    number = db.execute(stmt).scalar_one()
    return f"{prefix}-{day}-{number:06d}"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


