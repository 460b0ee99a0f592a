"""Excel import of standard addresses: one row a room (网格编码, 小区, 楼栋, 单元, 户), for the
estates whose rooms are not numbered floor by floor (which the bulk form makes).

Like the people import: read with the sdk's bounded reader, every row checked first (the grid
in the caller's scope, each part's shape), any problem → nothing written and every problem
listed by row and column. Idempotent like bulk creation: a node is found by its code
(``<estate code>-<building>-<unit>-<room>``, the bulk form's scheme) and created only when
missing, so importing the same file twice creates nothing the second time. Written level by
level with Core ``executemany``; the request commits.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fengqiao.sdk.errors import DomainError, ValidationFailed
from fengqiao.sdk.files import read_table, workbook_bytes
from fengqiao.sdk.models import db, utcnow

from fengqiao_grid.access import MANAGE, grid_for, my_grids
from fengqiao_grid.checks import cell_text
from fengqiao_grid.models import GridAddress

MAX_ROWS = 10_000
READ_ROWS = MAX_ROWS + 20
READ_SECONDS = 20.0
BATCH = 1_000
COLUMNS = [
    ("grid", "网格编码", "15 位网格编码；只管一个网格时可不填"),
    ("estate", "小区", "小区或自然村名称"),
    ("building", "楼栋", "如 3 或 3幢（字母、数字，最多 8 位）"),
    ("entrance", "单元", "如 1 或 1单元"),
    ("room", "户", "门牌，如 602 或 602室"),
]
HEADERS = [header for _key, header, _help in COLUMNS]
LABEL = {key: header for key, header, _help in COLUMNS}
PART = re.compile(r"^[0-9A-Za-z]{1,8}$")
UNIT = re.compile(r"^[0-9]{1,2}$")


def template_bytes() -> bytes:
    return workbook_bytes("标准地址导入模板", HEADERS, [["", "幸福小区", "3", "1", "602"]])


def _position(name: str) -> int:
    digits = re.match(r"[0-9]+", name)
    return int(digits.group(0)) if digits else 0


def read_addresses(content: bytes, filename: str) -> list[tuple[int, str, str, str, str, str]]:
    """(row number, grid, estate, building, unit, room) of every row, checked; any problem →
    :class:`ValidationFailed` listing them all (``/rows/<n>/<column>``)."""
    rows = read_table(content, filename or "addresses.xlsx", rows=READ_ROWS, columns=len(COLUMNS) + 10,
                      seconds=READ_SECONDS)
    head = next((i for i, (_n, row) in enumerate(rows[:5])
                 if {"小区", "楼栋", "户"} <= {cell_text(c) for c in row}), None)
    if head is None:
        raise ValidationFailed([("/file", "未找到表头：前几行中应有“小区”“楼栋”“单元”“户”等列（可先下载导入模板）", "format")])
    cells = [cell_text(c) for c in rows[head][1]]
    index = {key: cells.index(header) for key, header in LABEL.items() if header in cells}
    missing = [LABEL[k] for k in ("estate", "building", "entrance", "room") if k not in index]
    if missing:
        raise ValidationFailed([("/file", "缺少列：" + "、".join(missing), "format")])
    body = rows[head + 1:]
    if not body:
        raise ValidationFailed([("/file", "表格中没有地址", "minItems")])
    if len(body) > MAX_ROWS:
        raise ValidationFailed([("/file", f"一次最多导入 {MAX_ROWS:,} 户，本表 {len(body):,} 行，请分批导入", "too_large")])
    mine = my_grids(MANAGE)
    default = mine[0].code if len(mine) == 1 else ""
    allowed: dict[str, bool] = {}
    problems, out = [], []

    def problem(number: int, key: str, message: str, code: str) -> None:
        problems.append((f"/rows/{number}/{key}", f"第 {number} 行「{LABEL[key]}」：{message}", code))

    for number, row in body:
        v = {key: cell_text(row[i]) if i < len(row) else "" for key, i in index.items()}
        bad = len(problems)
        grid = v.get("grid") or default
        if not grid:
            problem(number, "grid", "请填写网格编码（您管理多个网格）", "required")
        elif grid not in allowed:
            try:
                grid_for(grid, MANAGE)
                allowed[grid] = True
            except DomainError:
                allowed[grid] = False
        if grid and not allowed[grid]:
            problem(number, "grid", "网格不存在或不在您的管辖范围内", "unknown_grid")
        estate = v.get("estate", "")
        if not estate or len(estate) > 40:
            problem(number, "estate", "请填写小区/自然村名称（最多 40 字）", "required")
        building = v.get("building", "").upper().removesuffix("幢").removesuffix("栋").removesuffix("号楼")
        if not PART.match(building):
            problem(number, "building", "应为字母或数字，最多 8 位，如 3", "format")
        unit = v.get("entrance", "").removesuffix("单元")
        if not UNIT.match(unit) or int(unit) == 0:
            problem(number, "entrance", "应为 1–99 的数字，如 1", "format")
        room = v.get("room", "").upper().removesuffix("室")
        if not PART.match(room):
            problem(number, "room", "应为字母或数字，最多 8 位，如 602", "format")
        if len(problems) == bad:
            out.append((number, grid, estate, building, str(int(unit)), room))
    if problems:
        raise ValidationFailed(problems[:500])
    return out


def _by_code(codes: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for first in range(0, len(codes), BATCH):
        found.update((r.code, r) for r in db.execute(
            sa.select(GridAddress.id, GridAddress.code, GridAddress.grid_code, GridAddress.label)
            .where(GridAddress.code.in_(codes[first:first + BATCH]))))
    return found


def write_addresses(rows: list[tuple[int, str, str, str, str, str]], actor: str) -> dict:
    """Create the missing estates, buildings, units and rooms of ``rows`` (checked by
    :func:`read_addresses`); returns ``{created, existing, rooms}``."""
    now = utcnow()
    table = GridAddress.__table__
    base = {"keeper_user": None, "keeper_name": "", "keeper_mobile": "", "created_at": now, "created_by": actor}
    created = made = 0  # nodes created; rooms created (the last level's count)
    estates: dict[tuple[str, str], Any] = {}
    for grid, name in sorted({(g, e) for _n, g, e, *_rest in rows}):
        found = db.execute(sa.select(GridAddress.id, GridAddress.code, GridAddress.grid_code, GridAddress.label).where(
            GridAddress.grid_code == grid, GridAddress.kind == "estate", GridAddress.name == name)).first()
        if found is None:
            number = (db.scalar(sa.select(sa.func.max(GridAddress.position)).where(
                GridAddress.grid_code == grid, GridAddress.kind == "estate")) or 0) + 1
            db.execute(sa.insert(table), [{**base, "grid_code": grid, "parent_id": None, "kind": "estate", "name": name,
                                           "position": number, "code": f"{grid}-{number:02d}", "label": name}])
            found = _by_code([f"{grid}-{number:02d}"])[f"{grid}-{number:02d}"]
            created += 1
        estates[(grid, name)] = found

    def level(wanted: dict[str, tuple[Any, str, str, str]]) -> dict[str, Any]:
        """Nodes by code: the existing ones, and the missing ones created under their parents."""
        nonlocal created, made
        have = _by_code(sorted(wanted))
        new = [{**base, "grid_code": parent.grid_code, "parent_id": parent.id, "kind": kind, "name": name,
                "position": _position(name), "code": code, "label": label}
               for code, (parent, kind, name, label) in wanted.items() if code not in have]
        if new:
            db.execute(sa.insert(table), new)
            created, made = created + len(new), len(new)
            have.update(_by_code([n["code"] for n in new]))
        return have

    buildings = level({f"{estates[(g, e)].code}-{b}": (estates[(g, e)], "building", b, f"{e}{b}幢")
                       for _n, g, e, b, _u, _r in rows})
    entrances: dict[str, tuple[Any, str, str, str]] = {}
    for _n, g, e, b, u, _r in rows:
        parent = buildings[f"{estates[(g, e)].code}-{b}"]
        entrances[f"{parent.code}-{u}"] = (parent, "entrance", u, f"{parent.label}{u}单元")
    units = level(entrances)
    wanted: dict[str, tuple[Any, str, str, str]] = {}
    for _n, g, e, b, u, r in rows:
        parent = units[f"{estates[(g, e)].code}-{b}-{u}"]
        wanted[f"{parent.code}-{r}"] = (parent, "room", r, f"{parent.label}{r}室")
    made = 0
    level(wanted)
    return {"created": created, "existing": len(wanted) - made, "rooms": len(wanted)}


def import_addresses(content: bytes, filename: str, actor: str) -> dict:
    return write_addresses(read_addresses(content, filename), actor)
