"""The plugin's tables (all ``grid_…``), on its own metadata, created by its own Alembic branch.

One standard address tree per grid (小区/自然村 → 楼栋 → 单元 → 户), and on the rooms the
"actuals": households and the people living there (实有人口) and the units working there
(实有单位). A person's stays are rows of ``grid_residences``: moving in adds a row, moving out
closes it with a date, nothing is overwritten, so a room's history can always be read back.

Scope follows the address: every row reaches its grid through its address
(``grid_addresses.grid_code``), so when a grid is redrawn and an address moves, its
households, people and units move with it and nothing else needs rewriting; the move itself is
a row of ``grid_address_moves``.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column

Model = declarative_base_for("grid")
"""The base of this plugin's models: its tables on a metadata of their own."""

KINDS = {"estate": "小区/自然村", "building": "楼栋", "entrance": "单元", "room": "户"}
CHILD_KIND = {"estate": "building", "building": "entrance", "entrance": "room"}
KEEPERS = {"building": "楼栋长", "entrance": "单元管家"}  # who looks after a building, a stairwell
RELATIONS = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女",
             "grandparent": "祖父母", "sibling": "兄弟姐妹", "relative": "其他亲属", "tenant": "租户",
             "other": "其他"}
RESIDENCE_TYPES = {"registered": "户籍", "resident": "常住", "floating": "流动", "renting": "出租（租住）"}
CARE_TAGS = {"alone_elderly": "独居老人", "advanced_age": "高龄", "disabled": "残疾", "low_income": "低保",
             "extreme_poverty": "特困", "child_in_difficulty": "困境儿童", "entitled": "优抚对象"}
SPECIAL_GROUPS = {"correction": "社区矫正", "mental": "严重精神障碍", "youth": "重点青少年", "drug": "吸毒人员"}
CATEGORIES = {"shop": "商铺", "company": "企业", "organisation": "社会组织", "institution": "机关事业单位",
              "other": "其他"}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class GridAddress(Model):
    """One node of a grid's standard address tree. ``code`` is stable and unique within the
    grid (``<grid>-<estate no.>-<building>-<unit>-<room>``, made when the node is created and
    kept when the address moves to another grid); ``label`` is what people read
    (「幸福小区3幢1单元602室」). Buildings and entrances may name their keeper (楼栋长 / 单元管家):
    an account, or a name and a mobile number (shown masked)."""

    __tablename__ = "grid_addresses"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.UniqueConstraint("grid_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(50))  # 幸福小区 | 3 | 1 | 602
    position: Mapped[int] = mapped_column(sa.Integer(), default=0)  # numeric order among siblings
    code: Mapped[str] = mapped_column(sa.String(120), index=True)  # the address book resolves codes
    label: Mapped[str] = mapped_column(sa.String(200), index=True)
    keeper_user: Mapped[str | None] = mapped_column(sa.String(64))
    keeper_name: Mapped[str] = mapped_column(sa.String(50), default="")  # personal: shown masked
    keeper_mobile: Mapped[str] = mapped_column(sa.String(11), default="")  # personal: shown masked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class GridAddressMove(Model):
    """An address (and everything under it) moved from one grid to another: a grid redrawn."""

    __tablename__ = "grid_address_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    from_grid: Mapped[str] = mapped_column(sa.String(32))
    to_grid: Mapped[str] = mapped_column(sa.String(32))
    nodes: Mapped[int] = mapped_column(sa.Integer())  # the address and the addresses under it
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(64))


class GridHousehold(Model):
    """The household living in a room (one per room). ``rented``: an 出租房, with its landlord."""

    __tablename__ = "grid_households"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), unique=True)
    head_person_id: Mapped[int | None] = mapped_column(sa.Integer())
    rented: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    landlord_name: Mapped[str] = mapped_column(sa.String(50), default="")  # personal: shown masked
    landlord_mobile: Mapped[str] = mapped_column(sa.String(11), default="")  # personal: shown masked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GridPerson(Model):
    """A person living (or having lived) in a grid. ``address_id`` is where they live now, or
    lived last: the person's scope. Name, ID number and mobile are personal: every output
    masks them."""

    __tablename__ = "grid_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    id_card: Mapped[str] = mapped_column(sa.String(18), index=True)
    gender: Mapped[str] = mapped_column(sa.String(1))  # M | F, from the ID number
    birth_date: Mapped[date] = mapped_column(sa.Date())
    mobile: Mapped[str] = mapped_column(sa.String(11), default="")
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    care_tags: Mapped[str] = mapped_column(sa.String(200), default="")  # comma-separated CARE_TAGS keys
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class GridResidence(Model):
    """One stay of a person at an address: moved in on a day, moved out on a later one (or
    still there). Never overwritten: a move-out closes the row once, a move-in adds a row."""

    __tablename__ = "grid_residences"
    __table_args__ = (
        sa.CheckConstraint(_in("relation", RELATIONS), name="relation"),
        sa.CheckConstraint(_in("residence_type", RESIDENCE_TYPES), name="residence_type"),
        sa.CheckConstraint("moved_out_on IS NULL OR moved_out_on >= moved_in_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_people.id"), index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_households.id"), index=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"))
    relation: Mapped[str] = mapped_column(sa.String(16))
    residence_type: Mapped[str] = mapped_column(sa.String(16))
    moved_in_on: Mapped[date] = mapped_column(sa.Date())
    moved_out_on: Mapped[date | None] = mapped_column(sa.Date())
    moved_out_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    recorded_by: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(sa.String(64))


class GridSpecialRecord(Model):
    """A person's membership of a special group (社区矫正, 严重精神障碍 …): sensitive, behind
    ``grid.special``; every view and change is in the audit log."""

    __tablename__ = "grid_special_records"
    __table_args__ = (sa.CheckConstraint(_in("group_key", SPECIAL_GROUPS), name="group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_people.id"), index=True)
    group_key: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class GridEstablishment(Model):
    """A unit at an address (实有单位): a shop, a company, an organisation. The credit code is
    checked (GB 32100); the contact's name and mobile are personal (shown masked)."""

    __tablename__ = "grid_establishments"
    __table_args__ = (sa.CheckConstraint(_in("category", CATEGORIES), name="category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    category: Mapped[str] = mapped_column(sa.String(16))
    contact_name: Mapped[str] = mapped_column(sa.String(50), default="")
    contact_mobile: Mapped[str] = mapped_column(sa.String(11), default="")
    safety_due: Mapped[date | None] = mapped_column(sa.Date())  # next 安全检查 due
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
