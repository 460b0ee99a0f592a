"""Excel import of people (实有人口): every row checked first, then all rows written or none.

A grid worker taking over a grid brings the old paper ledger as a spreadsheet of a few
thousand rows. The file is read by the sdk's bounded reader (``read_table``: the archive's
size, rows, cells and seconds are checked before anything parses it), every row is
checked — ID number (GB 11643), relation, residence type, date, mobile, care tags, the room
(in the caller's grids only: another grid's room reads exactly like an unknown one),
duplicates within the file, people already living in a room the caller can see, one head a
household — and any problem means nothing is written: the answer lists every problem by row
and column, in Chinese, so the file can be fixed and imported again whole.

A clean file is written with Core ``executemany`` (people, their ids read back in one query,
households missing for a room, their stays, the heads), inside the request's transaction;
the request commits. No job: 10,000 rows take under a second, within a request.
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from fengqiao.sdk.errors import ValidationFailed
from fengqiao.sdk.files import read_table, workbook_bytes
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.privacy import audit
from fengqiao.sdk.web import id_card_problem
from fengqiao.sdk.workdays import today_local

from fengqiao_grid.access import MANAGE, VIEW, addresses_in_scope
from fengqiao_grid.checks import cell_text
from fengqiao_grid.models import (
    CARE_TAGS,
    RELATIONS,
    RESIDENCE_TYPES,
    GridAddress,
    GridHousehold,
    GridPerson,
    GridResidence,
)

MAX_ROWS = 10_000  # people one file may bring: the largest grid, in one request
READ_ROWS = MAX_ROWS + 20  # a title, a note, the header, a few blank rows
MAX_BYTES = 2 << 20  # the upload itself (a 10,000-row workbook is about 0.4 MB; the app caps bodies at 2 MB too)
MAX_PROBLEMS = 500  # listed in one answer; the rest are counted
BATCH = 1_000  # rows an IN (...) or an executemany batch carries
READ_SECONDS = 20.0

# (key, header, required, help) — the template's columns, in order
COLUMNS = [
    ("code", "地址编码", False, "标准地址的编码（地址页面可见）；不填时按小区/楼栋/单元/户查找"),
    ("estate", "小区", False, "小区或自然村名称"),
    ("building", "楼栋", False, "如 3（即 3 幢）"),
    ("entrance", "单元", False, "如 1"),
    ("room", "户", False, "门牌，如 602"),
    ("name", "姓名", True, ""),
    ("id_card", "身份证号", True, "18 位，系统校验校验位"),
    ("relation", "与户主关系", True, "、".join(RELATIONS.values())),
    ("residence_type", "居住类型", True, "户籍、常住、流动、出租"),
    ("moved_in", "入住日期", False, "如 2024-03-01；不填为今天"),
    ("mobile", "手机号", False, ""),
    ("care_tags", "关爱标签", False, "多个用顿号分隔：" + "、".join(CARE_TAGS.values())),
]
HEADERS = [header for _key, header, _required, _help in COLUMNS]
LABEL = {key: header for key, header, _required, _help in COLUMNS}
RELATION_BY_LABEL = {**{v: k for k, v in RELATIONS.items()}, **{k: k for k in RELATIONS}, "本人": "head"}
TYPE_BY_LABEL = {**{v: k for k, v in RESIDENCE_TYPES.items()}, **{k: k for k in RESIDENCE_TYPES},
                 "出租": "renting", "租住": "renting"}
TAG_BY_LABEL = {**{v: k for k, v in CARE_TAGS.items()}, **{k: k for k in CARE_TAGS}}
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")
UNKNOWN_ROOM = "地址不存在或不在您的网格内"


@dataclass
class Result:
    """What a clean import wrote."""

    people: int = 0
    households: int = 0
    grids: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"imported": self.people, "households_created": self.households, "grids": self.grids}


def template_bytes() -> bytes:
    """The empty workbook to fill in: a title row, the headers, one example row."""
    example = ["", "幸福小区", "3", "1", "602", "王秀英", "339901198001010011（示例，请替换）", "户主", "户籍", "2020-05-01",
               "13800000000", "独居老人、高龄"]
    return workbook_bytes("实有人口导入模板", HEADERS, [example])


def _header(rows: list[tuple[int, list]]) -> tuple[int, dict[str, int]]:
    for index, (_number, row) in enumerate(rows[:5]):
        cells = [cell_text(c) for c in row]
        if "姓名" in cells and "身份证号" in cells:
            return index, {key: cells.index(header) for key, header in LABEL.items() if header in cells}
    raise ValidationFailed([("/file", "未找到表头：前几行中应有“姓名”“身份证号”等列（可先下载导入模板）", "format")])


def _date(value: Any) -> date | None:
    if value.__class__ is str and len(value) == 10 and value[4] == value[7] == "-" and value.isascii():
        try:  # 2024-03-01, the usual text cell, in C
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    if len(text) == 10 and text.isascii() and text[4] == text[7] == "-":  # 2024-03-01, in C
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    match = DATE.fullmatch(text)
    if not match:
        raise ValueError(text)
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


class _Rooms:
    """The rooms of the caller's grids (``grid.manage``), by code and by 小区/楼栋/单元/户,
    read once: another grid's room is simply absent, so it reads as unknown."""

    def __init__(self) -> None:
        rows = db.execute(sa.select(GridAddress.id, GridAddress.parent_id, GridAddress.kind, GridAddress.name,
                                    GridAddress.code, GridAddress.grid_code)
                          .where(addresses_in_scope(MANAGE))).all()
        nodes = {r.id: r for r in rows}
        self.by_code: dict[str, Any] = {}
        self.by_path: dict[tuple[str, str, str, str], list] = {}
        for r in rows:
            if r.kind != "room":
                continue
            self.by_code[r.code] = r
            entrance = nodes.get(r.parent_id)
            building = nodes.get(entrance.parent_id) if entrance else None
            estate = nodes.get(building.parent_id) if building else None
            if estate is not None:
                key = (estate.name, building.name.upper(), entrance.name, r.name)
                self.by_path.setdefault(key, []).append(r)

    def find(self, values: dict) -> tuple[Any | None, tuple[str, str] | None]:
        """(room, None) or (None, (column key, message))."""
        code = values.get("code", "")
        if code:
            found = self.by_code.get(code)
            return (found, None) if found else (None, ("code", UNKNOWN_ROOM))
        parts = [values.get(k, "") for k in ("estate", "building", "entrance", "room")]
        if not all(parts):
            missing = next(k for k, v in zip(("estate", "building", "entrance", "room"), parts, strict=True) if not v)
            return None, (missing, "请填写地址编码，或完整填写小区、楼栋、单元、户")
        estate, building, entrance, room = parts
        building = building.upper().removesuffix("幢").removesuffix("栋").removesuffix("号楼")
        entrance = entrance.removesuffix("单元")
        room = room.removesuffix("室")
        found = self.by_path.get((estate, building, entrance, room), [])
        if len(found) > 1:
            return None, ("estate", "该地址在您的多个网格中重名，请填写地址编码")
        return (found[0], None) if found else (None, ("estate", UNKNOWN_ROOM))


def _chunks(items: list, size: int = BATCH):
    for first in range(0, len(items), size):
        yield items[first:first + size]


def read_people(content: bytes, filename: str) -> list[dict]:
    """Every row of the file, checked; :class:`ValidationFailed` lists every problem (pointer
    ``/rows/<row number>/<column>``, message 「第 N 行「列」：…」) when any row has one."""
    if len(content) > MAX_BYTES:  # the route refuses larger uploads before reading them (413)
        raise ValidationFailed([("/file", f"文件过大：最大 {MAX_BYTES >> 20} MB", "too_large")])
    rows = read_table(content, filename or "people.xlsx", rows=READ_ROWS, columns=len(COLUMNS) + 10,
                      seconds=READ_SECONDS)
    head, index = _header(rows)
    missing = [h for key, h, required, _ in COLUMNS if required and key not in index]
    if missing:
        raise ValidationFailed([("/file", "缺少列：" + "、".join(missing), "format")])
    if "code" not in index and not all(k in index for k in ("estate", "building", "entrance", "room")):
        raise ValidationFailed([("/file", "缺少地址列：请提供“地址编码”，或“小区”“楼栋”“单元”“户”四列", "format")])
    body = rows[head + 1:]
    if not body:
        raise ValidationFailed([("/file", "表格中没有人员", "minItems")])
    if len(body) > MAX_ROWS:
        raise ValidationFailed([("/file", f"一次最多导入 {MAX_ROWS:,} 人，本表 {len(body):,} 行，请分批导入", "too_large")])
    rooms = _Rooms()
    today = today_local()
    problems: list[tuple[str, str, str]] = []
    out: list[dict] = []
    first_seen: dict[str, int] = {}
    heads: dict[int, int] = {}  # room id → row number of the file's head there

    def problem(number: int, key: str, message: str, code: str) -> None:
        problems.append((f"/rows/{number}/{key}", f"第 {number} 行「{LABEL[key]}」：{message}", code))

    picks = list(index.items())
    width = max(index.values()) + 1
    blank = [None] * width
    date_at = index.get("moved_in")
    for number, row in body:
        if len(row) < width:  # cells after a row's last value are not there
            row = row + blank[len(row):]
        # cell_text, with the usual empty and text cells done inline (10,000 rows × 12 columns)
        values = {key: "" if (cell := row[i]) is None else cell.strip() if cell.__class__ is str else cell_text(cell)
                  for key, i in picks}
        raw_date = row[date_at] if date_at is not None else None
        bad = len(problems)
        room, miss = rooms.find(values)
        if miss:
            problem(number, miss[0], miss[1], "unknown_address")
        name = values.get("name", "")
        if not name:
            problem(number, "name", "请填写姓名", "required")
        elif len(name) > 50:
            problem(number, "name", "姓名最多 50 个字", "maxLength")
        card = values.get("id_card", "").replace(" ", "").upper()
        raw_card = row[index["id_card"]]
        if isinstance(raw_card, int | float) and not isinstance(raw_card, bool):  # Excel keeps 15 digits of a number
            message = "身份证号被存成了数字（会丢失末几位），请把该列设为文本格式后重新填写"
        else:
            message = id_card_problem(card) if card else "请填写身份证号"
        born = None
        if message:
            problem(number, "id_card", message, "id_card")
        else:
            born = _born(card)
            if card in first_seen:
                problem(number, "id_card", f"与第 {first_seen[card]} 行的身份证号重复", "duplicate")
            else:
                first_seen[card] = number
        relation = RELATION_BY_LABEL.get(values.get("relation", ""))
        if relation is None:
            problem(number, "relation", "应为：" + "、".join(RELATIONS.values()), "enum")
        kind = TYPE_BY_LABEL.get(values.get("residence_type", ""))
        if kind is None:
            problem(number, "residence_type", "应为：户籍、常住、流动、出租", "enum")
        moved_in = today
        if raw_date not in (None, ""):
            try:
                moved_in = _date(raw_date)
            except ValueError:
                problem(number, "moved_in", "日期格式应为 2024-03-01", "format")
            else:
                if moved_in > today:
                    problem(number, "moved_in", "入住日期不能晚于今天", "future")
                elif born is not None and moved_in < born:
                    problem(number, "moved_in", "入住日期早于出生日期", "before_birth")
        mobile = values.get("mobile", "")
        if mobile and not MOBILE.match(mobile):
            problem(number, "mobile", "应为 11 位手机号", "format")
        care = values.get("care_tags", "")
        tags = [t for t in TAG_SEPARATORS.split(care) if t] if care else []
        unknown = [t for t in tags if t not in TAG_BY_LABEL]
        if unknown:
            problem(number, "care_tags", f"无法识别“{'、'.join(unknown)}”，应为：" + "、".join(CARE_TAGS.values()), "enum")
        if relation == "head" and room is not None:
            if room.id in heads:
                problem(number, "relation", f"同一户已在第 {heads[room.id]} 行登记户主", "head_exists")
            else:
                heads[room.id] = number
        if len(problems) == bad:
            keys = {TAG_BY_LABEL[t] for t in tags}
            out.append({"row": number, "room": room, "name": name, "id_card": card, "born": born, "relation": relation,
                        "residence_type": kind, "moved_in": moved_in, "mobile": mobile,
                        "care_tags": ",".join(k for k in CARE_TAGS if k in keys) if keys else ""})
    problems += _against_the_database(out, heads)
    if problems:
        problems.sort(key=lambda p: int(p[0].split("/")[2]))
        if len(problems) > MAX_PROBLEMS:
            rest = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], ("/file", f"另有 {rest} 个问题未列出，请先修改以上问题", "more")]
        raise ValidationFailed(problems)
    return out


def _born(card: str) -> date:
    return date(int(card[6:10]), int(card[10:12]), int(card[12:14]))


def _against_the_database(rows: list[dict], heads: dict[int, int]) -> list[tuple[str, str, str]]:
    """Problems only the stored rows can show: someone already living at an address the caller
    can see (elsewhere, out of sight, says nothing — as for one person), a head where the
    household already has one."""
    problems = []
    living: dict[str, str] = {}
    for chunk in _chunks([r["id_card"] for r in rows]):
        living.update(db.execute(
            sa.select(GridPerson.id_card, GridAddress.label)
            .join(GridResidence, sa.and_(GridResidence.person_id == GridPerson.id, GridResidence.moved_out_on.is_(None)))
            .join(GridAddress, GridAddress.id == GridResidence.address_id)
            .where(GridPerson.id_card.in_(chunk), addresses_in_scope(VIEW))).all())
    for r in rows:
        if r["id_card"] in living:
            problems.append((f"/rows/{r['row']}/id_card",
                             f"第 {r['row']} 行「身份证号」：此人已登记在住（{living[r['id_card']]}），请先办理迁出",
                             "already_resident"))
    with_head = set()
    for chunk in _chunks(list(heads)):
        with_head.update(db.scalars(
            sa.select(GridHousehold.address_id)
            .join(GridResidence, sa.and_(GridResidence.person_id == GridHousehold.head_person_id,
                                         GridResidence.household_id == GridHousehold.id,
                                         GridResidence.moved_out_on.is_(None)))
            .where(GridHousehold.address_id.in_(chunk))))
    for room_id in with_head:
        number = heads[room_id]
        problems.append((f"/rows/{number}/relation", f"第 {number} 行「与户主关系」：该户已有户主", "head_exists"))
    return problems


def write_people(rows: list[dict], actor: str) -> Result:
    """Write checked rows (from :func:`read_people`) with Core ``executemany``: the people,
    the households missing for their rooms (with their heads), the stays, and the heads of
    households that existed already. Never commits: the request does.

    Ids are read back as the rows after the highest id before the insert (SQLite's rowids and
    PostgreSQL's sequences only grow) stamped with this import's time and actor, keyed by ID
    number (unique within the file): one query, rather than ``RETURNING`` in the rows' order,
    which SQLite can only give one row a statement, or 10 ``IN`` lists of 1,000."""
    now = utcnow()
    people = GridPerson.__table__
    before = _last_id(people)
    db.execute(sa.insert(people).values(_once(people, created_at=now)), [
        {"name": r["name"], "id_card": r["id_card"], "gender": "M" if int(r["id_card"][16]) % 2 else "F",
         "birth_date": r["born"], "mobile": r["mobile"], "address_id": r["room"].id,
         "care_tags": r["care_tags"], "created_by": actor} for r in rows])
    ids: dict[str, int] = dict(db.execute(sa.select(people.c.id_card, people.c.id).where(
        people.c.id > before, people.c.created_at == now, people.c.created_by == actor)).all())
    room_ids = sorted({r["room"].id for r in rows})
    head_of = {r["room"].id: ids[r["id_card"]] for r in rows if r["relation"] == "head"}
    table = GridHousehold.__table__
    households: dict[int, int] = {}
    for chunk in _chunks(room_ids):
        households.update(db.execute(sa.select(table.c.address_id, table.c.id).where(table.c.address_id.in_(chunk))).all())
    missing = [i for i in room_ids if i not in households]
    if missing:
        before = _last_id(table)
        db.execute(sa.insert(table).values(_once(table, rented=False, landlord_name="", landlord_mobile="", created_at=now)),
                   [{"address_id": i, "head_person_id": head_of.get(i)} for i in missing])
        wanted = set(missing)  # (one household an address: another import's new ones are not these)
        households.update((address, i) for address, i in db.execute(
            sa.select(table.c.address_id, table.c.id).where(table.c.id > before, table.c.created_at == now))
            if address in wanted)
    created = set(missing)
    heads = [{"h": households[room], "p": person} for room, person in head_of.items() if room not in created]
    if heads:  # a head joining a household that existed (checked: it had none living there)
        db.execute(sa.update(table).where(table.c.id == sa.bindparam("h")).values(head_person_id=sa.bindparam("p")),
                   heads)
    stays = GridResidence.__table__
    db.execute(sa.insert(stays).values(_once(stays, moved_out_on=None, moved_out_reason="", recorded_at=now,
                                             closed_by=None)),
               [{"person_id": ids[r["id_card"]], "household_id": households[r["room"].id], "address_id": r["room"].id,
                 "relation": r["relation"], "residence_type": r["residence_type"], "moved_in_on": r["moved_in"],
                 "recorded_by": actor} for r in rows])
    grids = sorted({r["room"].grid_code for r in rows})
    for grid in grids:  # who brought how many people into which grid (the count, never the values)
        audit("grid.import_people", record=f"grid-import:{grid}", org=grid, actor=actor,
              detail={"people": sum(1 for r in rows if r["room"].grid_code == grid)})
    return Result(people=len(rows), households=len(missing), grids=grids)


def _once(table: sa.Table, **values: Any) -> dict[str, sa.ColumnElement]:
    """Values every row of an insert shares (the import's time, empty fields), written into the
    statement once as SQL literals of their columns' types: bound on each of 10,000 rows,
    SQLAlchemy converts them row by row, and on SQLite that took longer than the insert.
    Only values the importer makes itself: never a cell's text."""
    dialect = db.get_bind().dialect
    return {name: sa.literal_column(sa.literal(value, table.c[name].type).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}).string, table.c[name].type)
            for name, value in values.items()}


def _last_id(table: sa.Table) -> int:
    return db.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))


def import_people(content: bytes, filename: str, actor: str) -> Result:
    """Read and check the whole file, then write it (all rows or none)."""
    with _gc_paused():
        return write_people(read_people(content, filename), actor)


@contextmanager
def _gc_paused():
    """The cyclic garbage collector paused while 10,000 rows become dicts and statement
    parameters: none of them forms a cycle, yet every few thousand allocations it rescanned the
    whole process's heap (a quarter of the import's time)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
