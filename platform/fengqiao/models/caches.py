"""One stamp per process-wide cache; the database replaces it whenever the cached rows change."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base


class CacheVersion(Base):
    """The current stamp of the cache ``name`` (``fengqiao.caches``): triggers on the tables it
    is built from write a new random stamp in the same transaction as each change."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger())
