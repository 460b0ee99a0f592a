"""The first answer of a write route called with an ``Idempotency-Key`` (plugin API routes
through ``fengqiao.sdk.web.idempotent``; form submissions keep theirs on the submission).

A phone that sends its 待上传 queue again after a lost answer must not record the visit twice:
the row is claimed (unique per scope and key) in the same transaction as the route's writes,
so either both are committed or neither is. ``scope`` is an HMAC of the route and the caller,
so the table names nobody in clear; ``request_hash`` tells a resend from another request that
reuses the key; ``body`` is the answer to replay (routes answer ids, never personal data).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(128))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int | None] = mapped_column(sa.Integer)  # None only inside the claiming transaction
    content_type: Mapped[str] = mapped_column(sa.String(100), default="application/json")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)  # pruned by age

    __table_args__ = (sa.UniqueConstraint("scope", "key"),)
