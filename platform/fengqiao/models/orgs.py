"""Org units: the territorial hierarchy 区县 → 街道/乡镇 → 社区/村 → 网格 (→ 小区/楼栋)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, sortable_path, utcnow


class OrgLevel(StrEnum):
    county = "county"
    street = "street"
    community = "community"
    grid = "grid"
    building = "building"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return list(OrgLevel).index(self)


LEVEL_LABELS = {
    OrgLevel.county: "区县",
    OrgLevel.street: "街道/乡镇",
    OrgLevel.community: "社区/村",
    OrgLevel.grid: "网格",
    OrgLevel.building: "小区/楼栋",
}

KIND_LABELS = {"territorial": "属地单位", "department": "职能部门"}


class OrgUnit(Base):
    """One unit. ``path`` is the materialized path of codes (``/339901/339901001/``).

    Subtree scans are index range scans on ``path``; sorting by it lists the tree in order.

    Units are never hard-deleted once they own data: they are deactivated, and moving a unit
    rewrites the paths of its whole subtree in one statement.
    """

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(16), default="territorial")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    path: Mapped[str] = mapped_column(sortable_path(), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    __table_args__ = (
        sa.CheckConstraint(
            "level in ('county','street','community','grid','building')", name="level"
        ),
        sa.CheckConstraint("kind in ('territorial','department')", name="kind"),
    )

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[OrgLevel(self.level)]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "parent": self.parent.code if self.parent else None,
            "level": self.level,
            "kind": self.kind,
            "active": self.active,
        }

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
