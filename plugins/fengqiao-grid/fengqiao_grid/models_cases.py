"""Which standard address a case is about (``grid_case_addresses``, created by ``grid_0003``).

The core's cases know nothing of the plugin's addresses, and their data is JSON the database
cannot index: this small table is the link, so a case page can list the address's other cases
and the room's history. A row is written when a case is opened — by a visit that spawns it
(``visits.spawn_case``) or by any form whose data names a standard address (the
``case_created`` receiver in ``case_links``) — and never rewritten: one address per case.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, utcnow
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao_grid.models import Model


class GridCaseAddress(Model):
    """A case (by number: the core's table is not ours to reference) at a standard address."""

    __tablename__ = "grid_case_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
