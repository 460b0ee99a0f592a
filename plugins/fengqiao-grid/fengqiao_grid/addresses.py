"""Standard addresses: bulk creation of an estate's rooms, search, keepers, moving to another grid.

Services flush and raise domain errors; the request commits. Bulk creation checks every limit
before it writes anything and is idempotent: a node is found by its code (unique within the
grid) and created only when missing, so running the same request twice creates nothing the
second time, and extending an estate by a building adds only that building.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from fengqiao.sdk.errors import Conflict, Invalid
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import display_name
from fengqiao.sdk.web import validate
from sqlalchemy.exc import IntegrityError

from fengqiao_grid.access import MANAGE, grid_for
from fengqiao_grid.models import KEEPERS, GridAddress, GridAddressMove

MAX_ROOMS = 5000  # rooms one bulk request may create: a large estate, in one short transaction
BUILDING = r"^[0-9A-Za-z]{1,8}$"

BULK_BODY = {
    "type": "object", "additionalProperties": False,
    "required": ["grid", "estate", "buildings", "units", "floors", "per_floor"],
    "properties": {
        "grid": {"type": "string", "title": "网格", "minLength": 1, "maxLength": 32},
        "estate": {"type": "string", "title": "小区/自然村", "minLength": 1, "maxLength": 40},
        "buildings": {"type": "array", "title": "楼栋", "minItems": 1, "maxItems": 200, "uniqueItems": True,
                      "items": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 9999},
                                          {"type": "string", "pattern": BUILDING}]}},
        "units": {"type": "integer", "title": "每栋单元数", "minimum": 1, "maximum": 20},
        "floors": {"type": "integer", "title": "层数", "minimum": 1, "maximum": 60},
        "per_floor": {"type": "integer", "title": "每层户数", "minimum": 1, "maximum": 20},
    },
}
KEEPER_BODY = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "user": {"type": "string", "title": "账号", "maxLength": 64},
        "name": {"type": "string", "title": "姓名", "maxLength": 50},
        "mobile": {"type": "string", "format": "cn-mobile", "title": "手机号"},
    },
}
MOVE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["grid"],
    "properties": {"grid": {"type": "string", "title": "调整到的网格", "minLength": 1, "maxLength": 32}},
}


def _position(name: str) -> int:
    digits = re.match(r"[0-9]+", name)
    return int(digits.group(0)) if digits else 0


def parse_buildings(text: str) -> list[str]:
    """``"1-3, 5, 7A"`` → ``["1", "2", "3", "5", "7A"]`` (what a person types on the page);
    anything else is left for the schema to refuse."""
    out: list[str] = []
    for part in re.split(r"[,，、\s]+", (text or "").strip()):
        ranged = re.fullmatch(r"([0-9]{1,4})\s*[-–~至]\s*([0-9]{1,4})", part)
        if ranged and int(ranged.group(1)) <= int(ranged.group(2)) <= int(ranged.group(1)) + 199:
            out.extend(str(n) for n in range(int(ranged.group(1)), int(ranged.group(2)) + 1))
        elif part:
            out.append(part)
    return out


def bulk_create(data: dict, actor: str) -> dict:
    """Create the rooms of ``buildings`` × ``units`` × ``floors`` × ``per_floor`` under the estate
    (found by name in the grid, else created). Rooms are numbered floor then position:
    ``101, 102 … 602``. Returns ``{estate, created, existing, rooms}``."""
    validate(BULK_BODY, data)
    buildings = [str(b).upper() for b in data["buildings"]]
    if len(set(buildings)) != len(buildings):
        raise Invalid([("/buildings", "楼栋编号重复", "duplicate")])
    rooms = len(buildings) * data["units"] * data["floors"] * data["per_floor"]
    if rooms > MAX_ROOMS:
        raise Invalid([("", f"一次最多创建 {MAX_ROOMS} 户，本次为 {rooms} 户，请分批创建", "too_many")])
    grid = grid_for(data["grid"], MANAGE)
    name = data["estate"].strip()
    if not name:
        raise Invalid([("/estate", "请填写小区/自然村名称", "required")])
    estate = db.scalar(sa.select(GridAddress).where(GridAddress.grid_code == grid.code, GridAddress.kind == "estate",
                                                    GridAddress.name == name))
    created = 0
    now = utcnow()
    if estate is None:
        number = (db.scalar(sa.select(sa.func.max(GridAddress.position)).where(
            GridAddress.grid_code == grid.code, GridAddress.kind == "estate")) or 0) + 1
        estate = GridAddress(grid_code=grid.code, kind="estate", name=name, position=number,
                             code=f"{grid.code}-{number:02d}", label=name, keeper_name="", keeper_mobile="",
                             created_at=now, created_by=actor)
        db.add(estate)
        db.flush()
        created += 1
    # Codes start with the grid's code, so this finds the estate's nodes in every grid: a building
    # moved to another grid when the grids were redrawn is not created again here.
    existing = {a.code: a for a in db.scalars(sa.select(GridAddress).where(
        GridAddress.code.startswith(estate.code + "-", autoescape=True)))}

    def node(parent: GridAddress, kind: str, part: str, label: str) -> tuple[GridAddress, bool]:
        code = f"{parent.code}-{part}"
        found = existing.get(code)
        if found is not None:
            return found, False
        made = GridAddress(grid_code=grid.code, parent_id=parent.id, kind=kind, name=part, position=_position(part),
                           code=code, label=label, keeper_name="", keeper_mobile="", created_at=now, created_by=actor)
        db.add(made)
        existing[code] = made
        return made, True

    entrances: list[GridAddress] = []
    for b in buildings:
        building, new = node(estate, "building", b, f"{estate.name}{b}幢")
        created += new
        if new:
            db.flush()
        for u in range(1, data["units"] + 1):
            entrance, new = node(building, "entrance", str(u), f"{building.label}{u}单元")
            created += new
            entrances.append(entrance)
    db.flush()  # the entrances' ids, for their rooms
    made_rooms = 0
    for entrance in entrances:
        for floor in range(1, data["floors"] + 1):
            for n in range(1, data["per_floor"] + 1):
                number = f"{floor}{n:02d}"
                _room, new = node(entrance, "room", number, f"{entrance.label}{number}室")
                made_rooms += new
    db.flush()
    return {"estate": estate.id, "created": created + made_rooms, "existing": rooms - made_rooms, "rooms": rooms}


def bulk_create_once(data: dict, actor: str) -> dict:
    """``bulk_create`` for a request: two people creating the same estate at the same moment
    meet the unique codes; the later one is told to try again (409) instead of a server error.
    (The request's transaction is rolled back either way: nothing half-made stays.)"""
    try:
        return bulk_create(data, actor)
    except IntegrityError:
        db.rollback()
        raise Conflict("同一批地址正在由他人生成，请稍后重试", code="busy") from None


def search(stmt: sa.Select, q: str | None = None, grid: str | None = None, kind: str | None = None) -> sa.Select:
    """Narrow a select of addresses by label text, grid and kind."""
    if q:
        stmt = stmt.where(GridAddress.label.contains(q.strip()[:50], autoescape=True))
    if grid:
        stmt = stmt.where(GridAddress.grid_code == grid)
    if kind:
        stmt = stmt.where(GridAddress.kind == kind)
    return stmt


def ancestors(address: GridAddress) -> list[GridAddress]:
    """The address's parents, estate first (at most three)."""
    chain: list[GridAddress] = []
    parent_id = address.parent_id
    while parent_id is not None and len(chain) < 4:
        parent = db.get(GridAddress, parent_id)
        if parent is None:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return chain[::-1]


def children(address: GridAddress) -> list[GridAddress]:
    return list(db.scalars(sa.select(GridAddress).where(GridAddress.parent_id == address.id)
                           .order_by(GridAddress.position, GridAddress.name, GridAddress.id)))


def grid_tops(grid_code: str) -> list[GridAddress]:
    """The nodes a grid's tree starts at: its estates, and nodes whose parent lies in another
    grid (a building moved here when the grid was redrawn)."""
    parent = sa.orm.aliased(GridAddress)
    return list(db.scalars(
        sa.select(GridAddress).outerjoin(parent, parent.id == GridAddress.parent_id)
        .where(GridAddress.grid_code == grid_code,
               sa.or_(GridAddress.parent_id.is_(None), parent.grid_code != grid_code))
        .order_by(GridAddress.kind, GridAddress.position, GridAddress.name).limit(500)))


def set_keeper(address: GridAddress, data: dict) -> None:
    """The building's 楼栋长 or the entrance's 单元管家: an account, or a name and a mobile
    number; all empty removes them."""
    if address.kind not in KEEPERS:
        raise Invalid([("", "只有楼栋可设楼栋长、单元可设单元管家", "not_keepable")])
    validate(KEEPER_BODY, data)
    user = (data.get("user") or "").strip()
    if user and display_name(user) is None:
        raise Invalid([("/user", "没有这个账号", "unknown_user")])
    address.keeper_user = user or None
    address.keeper_name = (data.get("name") or "").strip()
    address.keeper_mobile = data.get("mobile") or ""
    db.flush()


def subtree(address: GridAddress) -> list[GridAddress]:
    """The address and every address under it in the same grid (a part already moved to
    another grid stays there)."""
    nodes, level = [address], [address.id]
    for _ in range(3):
        level_nodes = list(db.scalars(sa.select(GridAddress).where(
            GridAddress.parent_id.in_(level), GridAddress.grid_code == address.grid_code))) if level else []
        nodes.extend(level_nodes)
        level = [n.id for n in level_nodes]
    return nodes


def move(address: GridAddress, data: dict, actor: str) -> GridAddressMove:
    """Move the address and everything under it to another grid (a grid redrawn). Codes stay;
    the move is kept as a row. Households, people and units follow (they are scoped by address)."""
    validate(MOVE_BODY, data)
    target = grid_for(data["grid"], MANAGE)
    if target.code == address.grid_code:
        raise Invalid([("/grid", "已在该网格", "same_grid")])
    nodes = subtree(address)
    codes = [n.code for n in nodes]
    clash = db.scalar(sa.select(GridAddress.code).where(GridAddress.grid_code == target.code,
                                                        GridAddress.code.in_(codes)).limit(1))
    if clash:
        raise Conflict("目标网格已有相同编码的地址，不能调整", code="code_taken")
    row = GridAddressMove(address_id=address.id, from_grid=address.grid_code, to_grid=target.code,
                          nodes=len(nodes), moved_at=utcnow(), actor=actor)
    db.add(row)
    db.execute(sa.update(GridAddress).where(GridAddress.id.in_([n.id for n in nodes]))
               .values(grid_code=target.code).execution_options(synchronize_session="fetch"))
    db.flush()
    return row


def moves(address: GridAddress) -> list[GridAddressMove]:
    return list(db.scalars(sa.select(GridAddressMove).where(GridAddressMove.address_id == address.id)
                           .order_by(GridAddressMove.id.desc()).limit(50)))
