"""Demo rows for ``fengqiao demo``: the demo county's eight grids get estates (or, in the
villages, numbered houses), about 1,500 households and 4,000 people, about 100 units and a
month of visits.

Everything is synthetic and fixed by a seeded random generator (the same demo every time):
names come from a short list, ID numbers are valid-checksum **fictitious** numbers of the demo
county's area code 339901 (prefecture 99 does not exist, so none is anyone's), credit codes
likewise. Written with Core ``executemany`` level by level (about a second on SQLite), once:
nothing is added when the grids already have addresses.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.workdays import today_local

from fengqiao_grid.models import (
    GridAddress,
    GridEstablishment,
    GridHousehold,
    GridPerson,
    GridResidence,
)

AREA = "339901"  # the demo county: prefecture 99 is unassigned, so these numbers are nobody's
ACTOR = "demo"
# grid → [(estate, buildings, units, floors, rooms a floor)]; units == 0: village houses (one room each)
LAYOUT: dict[str, list[tuple[str, int, int, int, int]]] = {
    "339901001001001": [("揽月花园", 8, 2, 6, 2)],
    "339901001001002": [("湖滨路商住楼", 2, 2, 8, 2)],
    "339901001002001": [("桥东新村", 14, 2, 6, 2)],
    "339901001002002": [("锦绣苑", 10, 2, 11, 2)],
    "339901100201001": [("石溪村一组", 70, 0, 0, 0), ("石溪村二组", 70, 0, 0, 0)],
    "339901100201002": [("石溪村三组", 70, 0, 0, 0), ("石溪村四组", 70, 0, 0, 0)],
    "339901100202001": [("上坞", 80, 0, 0, 0), ("下坞", 70, 0, 0, 0)],
    "339901100202002": [("茶场片", 120, 0, 0, 0)],
}
WORKERS = {"339901001001001": "zhangmin", "339901001001002": "liuyang", "339901001002001": "chenjing",
           "339901001002002": "xuwen", "339901100201001": "hujianhua", "339901100201002": "yangmei",
           "339901100202001": "jianglin", "339901100202002": "zhuhong"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢傅钟姜崔谭陆范汪"
GIVEN = ["秀英", "建国", "桂兰", "志强", "丽华", "国平", "玉兰", "海峰", "淑珍", "明", "静", "磊", "洋", "敏", "婷", "杰",
         "芳", "勇", "艳", "军", "红梅", "晓东", "春燕", "文博", "子涵", "浩然", "欣怡", "一诺", "雨桐", "梓轩", "佳怡",
         "宇航", "思远", "晨曦", "金凤", "福生", "阿婆", "根宝", "水英", "小龙"]
SHOPS = ["便利店", "理发店", "早餐店", "药房", "五金店", "水果店", "快递驿站", "小吃店", "干洗店", "棋牌室", "修车铺",
         "烟酒店", "茶叶店", "农资店", "面馆"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def fictitious_id(born: date, seq: int) -> str:
    """A valid-checksum ID number of the demo county (``seq`` 0–999; odd for men)."""
    first = f"{AREA}{born:%Y%m%d}{seq:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]


def fictitious_credit_code(n: int) -> str:
    """A valid-checksum 统一社会信用代码 of the demo county (``n`` numbers it)."""
    body = f"9{1 if n % 3 else 2}{AREA}MA{n:07d}"
    total = sum(_USCC.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC[(31 - total % 31) % 31]


def _insert(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (executemany) and return their ids in the rows' order."""
    if not rows:
        return []
    table = model.__table__
    return list(db.scalars(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


def add_addresses(grids: list[str], now, layout: dict | None = None, rng: random.Random | None = None) -> list[dict]:
    """Create the trees of ``layout`` (default :data:`LAYOUT`) with Core ``executemany``, level
    by level; returns the rooms as dicts (``id``, ``grid_code``, ``code``, ``label``, ``village``).
    With ``rng`` the estates' buildings get a 楼栋长 (a synthetic name and mobile). Also used by
    the import bench (bench/bench_grid_import.py) to lay out its rooms."""
    layout = LAYOUT if layout is None else layout
    estates, plan = [], []
    for grid in grids:
        for number, (name, buildings, units, floors, per_floor) in enumerate(layout[grid], start=1):
            estates.append({"grid_code": grid, "parent_id": None, "kind": "estate", "name": name, "position": number,
                            "code": f"{grid}-{number:02d}", "label": name})
            plan.append((buildings, units, floors, per_floor))

    def level(parents: list[dict], kind: str, children) -> list[dict]:
        rows = []
        for parent in parents:
            for name, position, label, extra in children(parent):
                rows.append({"grid_code": parent["grid_code"], "parent_id": parent["id"], "kind": kind, "name": name,
                             "position": position, "code": f"{parent['code']}-{name}", "label": label, **extra})
        return rows

    def stored(rows: list[dict]) -> list[dict]:
        base = {"keeper_user": None, "keeper_name": "", "keeper_mobile": "", "created_at": now, "created_by": ACTOR}
        columns = {"grid_code", "parent_id", "kind", "name", "position", "code", "label", "keeper_name",
                   "keeper_mobile"}
        ids = _insert(GridAddress, [{**base, **{k: v for k, v in r.items() if k in columns}} for r in rows])
        for row, ident in zip(rows, ids, strict=True):
            row["id"] = ident
        return rows

    stored(estates)
    for estate, shape in zip(estates, plan, strict=True):
        estate["shape"] = shape
    def keeper(shape) -> dict:
        if rng is None or shape[1] == 0:  # village houses have no 楼栋长
            return {}
        return {"keeper_name": rng.choice(SURNAMES) + rng.choice(GIVEN), "keeper_mobile": f"1380013{rng.randrange(10**4):04d}"}

    buildings = stored(level(estates, "building", lambda e: [
        (str(b), b, f"{e['label']}{b}号" if e["shape"][1] == 0 else f"{e['label']}{b}幢",
         {"shape": e["shape"], **keeper(e["shape"])})
        for b in range(1, e["shape"][0] + 1)]))
    entrances = stored(level(buildings, "entrance", lambda b: [
        (str(u), u, b["label"] if b["shape"][1] == 0 else f"{b['label']}{u}单元", {"shape": b["shape"]})
        for u in range(1, max(b["shape"][1], 1) + 1)]))

    def rooms_of(e: dict):
        _b, units, floors, per_floor = e["shape"]
        if units == 0:  # a village house: one household
            return [("1", 1, e["label"], {"village": True})]
        return [(f"{f}{n:02d}", f * 100 + n, f"{e['label']}{f}{n:02d}室", {"village": False})
                for f in range(1, floors + 1) for n in range(1, per_floor + 1)]

    return stored(level(entrances, "room", rooms_of))


class _People:
    """Synthetic people: unique fictitious ID numbers, names from the lists."""

    def __init__(self, rng: random.Random, today: date):
        self.rng, self.today, self.used = rng, today, set()

    def born(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low * 365 + 1, high * 365 + 300))

    def make(self, surname: str, age: tuple[int, int], male: bool | None = None) -> dict:
        male = self.rng.random() < 0.5 if male is None else male
        while True:
            born = self.born(*age)
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            card = fictitious_id(born, seq)
            if card not in self.used:
                self.used.add(card)
                break
        return {"name": surname + self.rng.choice(GIVEN), "id_card": card, "gender": "M" if male else "F",
                "birth_date": born, "mobile": f"1380013{self.rng.randrange(10**4):04d}" if age[0] >= 18 else ""}


def _care(rng: random.Random, person: dict, alone: bool, today: date) -> str:
    years = (today - person["birth_date"]).days // 365
    tags = []
    if alone and years >= 70:
        tags.append("alone_elderly")
    if years >= 80:
        tags.append("advanced_age")
    if rng.random() < 0.03:
        tags.append("disabled")
    if rng.random() < 0.025:
        tags.append("low_income")
    if years < 16 and rng.random() < 0.02:
        tags.append("child_in_difficulty")
    if years >= 60 and rng.random() < 0.01:
        tags.append("entitled")
    return ",".join(tags)


def load() -> dict[str, int]:
    """Add the demo's addresses, households, people, units and visits (once); returns counts."""
    grids = [g for g in LAYOUT if org_unit(g) is not None]
    if not grids or db.scalar(sa.select(sa.func.count()).select_from(GridAddress)
                              .where(GridAddress.grid_code.in_(grids))):
        return {}
    rng = random.Random(339901)
    today, now = today_local(), utcnow()
    rooms = add_addresses(grids, now, rng=rng)
    occupied = [r for r in rooms if rng.random() < (0.97 if r["village"] else 0.9)]
    rented = {r["id"] for r in occupied if not r["village"] and rng.random() < 0.12}
    household_ids = _insert(GridHousehold, [
        {"address_id": r["id"], "rented": r["id"] in rented, "created_at": now,
         "landlord_name": (rng.choice(SURNAMES) + rng.choice(GIVEN)) if r["id"] in rented else "",
         "landlord_mobile": f"1380013{rng.randrange(10**4):04d}" if r["id"] in rented else ""} for r in occupied])
    maker = _People(rng, today)
    people, stays = [], []  # stays: (person index, room, household id, relation, type, moved in, moved out)
    for room, household in zip(occupied, household_ids, strict=True):
        surname = rng.choice(SURNAMES)
        if room["id"] in rented:
            size, kind = rng.choice((1, 1, 2, 3)), "renting"
        else:
            size = rng.choices((1, 2, 3, 4, 5), weights=(12, 30, 28, 20, 10))[0]
            kind = rng.choices(("registered", "resident", "floating"), weights=(70, 22, 8))[0]
        elderly = size == 1 and rng.random() < 0.45
        members = [("head", maker.make(surname, (70, 92) if elderly else (28, 75)))]
        if size >= 2:
            members.append(("spouse" if kind != "renting" else "tenant",
                            maker.make(rng.choice(SURNAMES), (26, 72), male=members[0][1]["gender"] == "F")))
        for _ in range(size - len(members)):
            if rng.random() < 0.75:
                members.append(("child" if kind != "renting" else "tenant", maker.make(surname, (1, 30))))
            else:
                members.append(("parent" if kind != "renting" else "tenant", maker.make(surname, (65, 90))))
        moved_in = today - timedelta(days=rng.randint(30, 3650 if kind != "renting" else 700))
        for relation, person in members:
            person["care_tags"] = _care(rng, person, size == 1, today)
            person["address_id"] = room["id"]
            people.append(person)
            start = max(moved_in, person["birth_date"])
            stays.append((len(people) - 1, room["id"], household, relation, kind, start, None, ""))
    # some history: half of the rented rooms had an earlier tenant who has moved out
    by_room = dict(zip((r["id"] for r in occupied), household_ids, strict=True))
    for room_id in sorted(rented)[: max(1, len(rented) // 2)]:
        person = maker.make(rng.choice(SURNAMES), (22, 55))
        person["care_tags"], person["address_id"] = "", room_id
        people.append(person)
        left = today - timedelta(days=rng.randint(60, 400))
        stays.append((len(people) - 1, room_id, by_room[room_id], "tenant", "renting",
                      left - timedelta(days=rng.randint(90, 700)), left, "租期到期，搬离"))
    person_ids = _insert(GridPerson, [{**p, "created_at": now, "created_by": ACTOR} for p in people])
    db.execute(sa.insert(GridResidence.__table__), [
        {"person_id": person_ids[i], "household_id": h, "address_id": room, "relation": relation,
         "residence_type": kind, "moved_in_on": start, "moved_out_on": out, "moved_out_reason": reason,
         "recorded_by": ACTOR, "recorded_at": now, "closed_by": ACTOR if out else None}
        for i, room, h, relation, kind, start, out, reason in stays])
    heads = [{"h": h, "p": person_ids[i]} for i, _room, h, relation, _k, _s, out, _r in stays
             if relation == "head" and out is None]
    table = GridHousehold.__table__
    db.execute(sa.update(table).where(table.c.id == sa.bindparam("h")).values(head_person_id=sa.bindparam("p")), heads)
    units = _units(rng, rooms, today, now)
    visits = _visits(rng, occupied, household_ids, people, stays, today, now)
    db.flush()
    return {"addresses": len(rooms), "households": len(household_ids), "people": len(people), "units": units,
            "visits": visits}


def _units(rng: random.Random, rooms: list[dict], today: date, now) -> int:
    """About 100 units: shops on 湖滨路 and in the villages, a few companies and organisations;
    safety inspections due within the year, about one in six overdue."""
    hubin = [r for r in rooms if r["grid_code"] == "339901001001002"]
    others = [r for r in rooms if r["grid_code"] != "339901001001002"]
    chosen = rng.sample(hubin, min(60, len(hubin))) + rng.sample(others, min(40, len(others)))
    rows = []
    for n, room in enumerate(chosen, start=1):
        category = rng.choices(("shop", "company", "organisation", "institution"), weights=(75, 15, 7, 3))[0]
        name = {"shop": f"{rng.choice(SURNAMES)}记{rng.choice(SHOPS)}", "company": f"云澜{rng.choice(GIVEN)}贸易有限公司",
                "organisation": f"{room['label'][:4]}志愿者协会", "institution": f"{room['label'][:4]}便民服务点"}[category]
        due = today + timedelta(days=rng.randint(-60, 300))
        rows.append({"address_id": room["id"], "name": name, "credit_code": fictitious_credit_code(n),
                     "category": category, "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                     "contact_mobile": f"1380013{rng.randrange(10**4):04d}", "safety_due": due, "created_at": now,
                     "created_by": ACTOR})
    db.execute(sa.insert(GridEstablishment.__table__), rows)
    return len(rows)


def _visits(rng, occupied, household_ids, people, stays, today, now) -> int:
    """A month of 走访 by each grid's worker, when the visits table exists (``models_visits``);
    otherwise nothing (the hook for it is here)."""
    try:
        from fengqiao_grid.models_visits import GridVisit
    except ImportError:  # the visits part of the plugin is not installed: no visits in the demo
        return 0
    tagged = {room for i, room, _h, _r, _k, _s, out, _why in stays if out is None and people[i]["care_tags"]}
    rows = []
    for room, household in zip(occupied, household_ids, strict=True):
        worker = WORKERS.get(room["grid_code"])
        if worker is None:
            continue
        chance = 0.9 if room["id"] in tagged else 0.3
        for _ in range(2 if room["id"] in tagged and rng.random() < 0.5 else 1):
            if rng.random() >= chance:
                continue
            day = today - timedelta(days=rng.randint(0, 29))
            purpose = rng.choices(("home_visit", "safety_check", "dispute_check", "special_care"),
                                  weights=(60, 15, 10, 15))[0]
            findings = rng.choice(("家中情况正常", "了解近况，无诉求", "提醒注意用电安全", "反映楼道灯不亮，已登记",
                                   "老人身体状况良好", "邻里关系和睦"))
            rows.append({"grid_code": room["grid_code"], "address_id": room["id"], "household_id": household,
                         "establishment_id": None, "visited_on": day, "purpose": purpose, "findings": findings,
                         "case_number": None, "worker": worker, "created_at": now})
    if rows:
        db.execute(sa.insert(GridVisit.__table__), rows)
    return len(rows)
