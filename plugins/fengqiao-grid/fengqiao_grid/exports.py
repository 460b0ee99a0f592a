"""台账 exports (masked, Chinese headers): the registers staff otherwise fill in by hand again
and again — 实有人口, 房屋, 单位, 走访记录, 排查 — generated from the data entered once.

Every ledger goes through ``_fetch`` (the caller's grids, or the one ``?grid=`` named, at most
``MAX_ROWS`` rows) and ``_respond`` (the workbook, an audit row with the count — never the
values — and a Chinese file name with the date). Names and mobiles are masked, free text goes
through ``mask_text``. A grid holds a few thousand people; a file cut at the cap says so in its
title row, so nobody mistakes it for the whole register.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.files import workbook_bytes, xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import display_names, my_units, org_scope_clause, org_unit, org_units
from fengqiao.sdk.privacy import audit, mask_id_card, mask_mobile, mask_name, mask_text
from fengqiao.sdk.workdays import LOCAL_TZ, today_local

from fengqiao_grid.access import VIEW, my_grids
from fengqiao_grid.metrics import month_bounds
from fengqiao_grid.models import (
    CARE_TAGS,
    CATEGORIES,
    KEEPERS,
    KINDS,
    RELATIONS,
    RESIDENCE_TYPES,
    GridAddress,
    GridEstablishment,
    GridHousehold,
    GridPerson,
    GridResidence,
)
from fengqiao_grid.models_visits import PURPOSES, GridDisputeReturn, GridVisit, GridVisitPhoto
from fengqiao_grid.people import age

MAX_ROWS = 20000
PEOPLE_HEADERS = ["人员编号", "姓名", "身份证号", "性别", "年龄", "手机号", "所属网格", "地址", "与户主关系", "居住类型",
                  "迁入日期", "关怀对象"]
ADDRESS_HEADERS = ["地址编码", "地址", "类型", "所属网格", "楼栋长/单元管家", "在住户数", "在住人数", "出租房", "房东",
                   "房东电话", "登记日期"]
UNIT_HEADERS = ["单位名称", "统一社会信用代码", "单位类别", "所属网格", "地址", "联系人", "联系电话", "下次安全检查",
                "安全检查逾期"]
VISIT_HEADERS = ["走访日期", "所属网格", "网格员", "地址", "户主/单位", "走访事项", "走访情况", "照片（张）", "上报事件编号"]
RETURN_HEADERS = ["月份", "所属网格", "填报情况", "填报人", "零报告", "发现矛盾纠纷（件）", "矛盾纠纷情况", "填报（确认）时间"]


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d") -> str:
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment else ""


def _grid_names() -> dict[str, str]:
    return {u.code: u.name for u in org_units(level="grid", active_only=False)}


def _fetch(stmt: sa.Select, grid_column, grid: str | None) -> tuple[list, bool]:
    """The rows of ``stmt`` whose ``grid_column`` is a grid of the caller's (``grid.view``), or
    the one ``grid`` — at most ``MAX_ROWS``; and whether more were left out."""
    stmt = stmt.where(org_scope_clause(grid_column, VIEW))
    if grid:
        stmt = stmt.where(grid_column == grid)
    rows = db.execute(stmt.limit(MAX_ROWS + 1)).all()
    return rows[:MAX_ROWS], len(rows) > MAX_ROWS


def _scope_name(grid: str | None) -> str:
    """Whose register it is: the grid asked for, else the units the caller works in."""
    unit = org_unit(grid) if grid else None
    return unit.name if unit else "、".join(u.name for u in my_units(VIEW)[:3])


def _respond(kind: str, name: str, headers: list[str], rows: list, grid: str | None, actor: str,
             capped: bool = False, month: str | None = None):
    """The .xlsx download — the unit and the period in its title row and the month and date in
    its name — and its audit row (the count and the month, never a value)."""
    detail: dict = {"rows": len(rows)}
    if month:
        detail["month"] = month
    if capped:
        detail["capped"] = True
    about = "，".join(x for x in (_scope_name(grid), month) if x)
    title = f"{name}（{about}）" if about else name
    if capped:
        title += f"（仅前 {MAX_ROWS} 行，请按网格分别导出）"
    data = workbook_bytes(title, headers, rows)
    audit(f"grid.export_{kind}", record=f"grid-export:{grid or 'scope'}", org=grid, actor=actor, detail=detail)
    return xlsx_response(f"{name}{f'（{month}）' if month else ''}-{today_local()}.xlsx", data)


def people_workbook(grid: str | None, actor: str):
    """The people living now in the caller's grids (or one of them) as an .xlsx download."""
    found, capped = _fetch(
        sa.select(GridPerson, GridResidence, GridAddress)
        .join(GridResidence, sa.and_(GridResidence.person_id == GridPerson.id, GridResidence.moved_out_on.is_(None)))
        .join(GridAddress, GridAddress.id == GridResidence.address_id)
        .order_by(GridAddress.grid_code, GridAddress.code, GridPerson.id), GridAddress.grid_code, grid)
    names = _grid_names()
    today = today_local()
    rows = [[f"RK{p.id:07d}", mask_name(p.name), mask_id_card(p.id_card), "男" if p.gender == "M" else "女",
             age(p, today), mask_mobile(p.mobile) if p.mobile else "", names.get(a.grid_code, a.grid_code), a.label,
             RELATIONS[s.relation], RESIDENCE_TYPES[s.residence_type], s.moved_in_on.isoformat(),
             "、".join(CARE_TAGS[k] for k in p.care_tags.split(",") if k in CARE_TAGS)]
            for p, s, a in found]
    return _respond("people", "实有人口台账", PEOPLE_HEADERS, rows, grid, actor, capped)


def _living(grid: str | None) -> dict[int, tuple[int, int]]:
    """``{room id: (households, people)}`` living there now, in the caller's grids."""
    stmt = (sa.select(GridResidence.address_id, sa.func.count(sa.distinct(GridResidence.household_id)),
                      sa.func.count(GridResidence.id))
            .join(GridAddress, GridAddress.id == GridResidence.address_id)
            .where(GridResidence.moved_out_on.is_(None), org_scope_clause(GridAddress.grid_code, VIEW))
            .group_by(GridResidence.address_id))
    if grid:
        stmt = stmt.where(GridAddress.grid_code == grid)
    return {address: (households, people) for address, households, people in db.execute(stmt)}


def addresses_workbook(grid: str | None, actor: str):
    """房屋台账: every address node, its keeper, who lives there now (a building's or an
    estate's figures add up its rooms), 出租房 and landlord."""
    found, capped = _fetch(
        sa.select(GridAddress, GridHousehold).outerjoin(GridHousehold, GridHousehold.address_id == GridAddress.id)
        .order_by(GridAddress.grid_code, GridAddress.code, GridAddress.id), GridAddress.grid_code, grid)
    parent = {a.id: a.parent_id for a, _h in found}
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for room, (households, people) in _living(grid).items():
        node = room
        while node in parent:  # the room, then its entrance, building, estate (those exported)
            totals[node][0] += households
            totals[node][1] += people
            node = parent[node]
    accounts = display_names({a.keeper_user for a, _h in found if a.keeper_user})
    names = _grid_names()
    rows = []
    for a, h in found:
        keeper = accounts.get(a.keeper_user, a.keeper_user) if a.keeper_user else a.keeper_name
        rented = bool(h and h.rented)
        rows.append([a.code, a.label, KINDS[a.kind], names.get(a.grid_code, a.grid_code),
                     mask_name(keeper) if keeper and a.kind in KEEPERS else "", *totals.get(a.id, (0, 0)),
                     _yes(rented) if a.kind == "room" else "",
                     mask_name(h.landlord_name) if rented and h.landlord_name else "",
                     mask_mobile(h.landlord_mobile) if rented and h.landlord_mobile else "", _local(a.created_at)])
    return _respond("addresses", "房屋台账", ADDRESS_HEADERS, rows, grid, actor, capped)


def units_workbook(grid: str | None, actor: str):
    """单位台账: units with their credit code (not personal), masked contact, next safety
    inspection and whether it is overdue (due before today)."""
    found, capped = _fetch(
        sa.select(GridEstablishment, GridAddress).join(GridAddress, GridAddress.id == GridEstablishment.address_id)
        .order_by(GridAddress.grid_code, GridAddress.code, GridEstablishment.id), GridAddress.grid_code, grid)
    names = _grid_names()
    today = today_local()
    rows = [[u.name, u.credit_code or "", CATEGORIES[u.category], names.get(a.grid_code, a.grid_code), a.label,
             mask_name(u.contact_name) if u.contact_name else "",
             mask_mobile(u.contact_mobile) if u.contact_mobile else "",
             u.safety_due.isoformat() if u.safety_due else "", _yes(u.safety_due is not None and u.safety_due < today)]
            for u, a in found]
    return _respond("units", "单位台账", UNIT_HEADERS, rows, grid, actor, capped)


def visits_workbook(grid: str | None, month: str, actor: str):
    """走访记录台账 of ``month`` (``YYYY-MM``): each visit with its worker, the household's head
    (masked) or the unit, the findings (masked), its photos and the case it spawned. A visit
    counts for the grid it was made in (``GridVisit.grid_code``)."""
    first, last = month_bounds(month)
    photos = (sa.select(GridVisitPhoto.visit_id, sa.func.count(GridVisitPhoto.id).label("n"))
              .group_by(GridVisitPhoto.visit_id).subquery())
    found, capped = _fetch(
        sa.select(GridVisit, GridAddress.label, GridPerson.name, GridEstablishment.name, photos.c.n)
        .join(GridAddress, GridAddress.id == GridVisit.address_id)
        .outerjoin(GridHousehold, GridHousehold.id == GridVisit.household_id)
        .outerjoin(GridPerson, GridPerson.id == GridHousehold.head_person_id)
        .outerjoin(GridEstablishment, GridEstablishment.id == GridVisit.establishment_id)
        .outerjoin(photos, photos.c.visit_id == GridVisit.id)
        .where(GridVisit.visited_on >= first, GridVisit.visited_on <= last)
        .order_by(GridVisit.visited_on, GridVisit.id), GridVisit.grid_code, grid)
    workers = display_names({v.worker for v, *_ in found})
    names = _grid_names()
    rows = [[v.visited_on.isoformat(), names.get(v.grid_code, v.grid_code), workers.get(v.worker, v.worker), label,
             unit or (mask_name(head) if head else ""), PURPOSES[v.purpose], mask_text(v.findings), n or 0,
             v.case_number or ""]
            for v, label, head, unit, n in found]
    return _respond("visits", "走访记录台账", VISIT_HEADERS, rows, grid, actor,
                    capped, month)


def returns_workbook(grid: str | None, month: str, actor: str):
    """排查台账 of ``month``: each of the caller's grids (or the one) with its 矛盾纠纷排查
    return — the items found, or the 零报告 the worker confirmed — and the grids that have not
    filed yet (未填报), so the register shows who is missing."""
    found, _capped = _fetch(sa.select(GridDisputeReturn).where(GridDisputeReturn.month == month)
                            .order_by(GridDisputeReturn.grid_code), GridDisputeReturn.grid_code, grid)
    filed = {r.grid_code: r for (r,) in found}
    codes = [g.code for g in my_grids(VIEW) if not grid or g.code == grid]
    codes += [code for code in filed if code not in codes]  # a grid closed since it filed
    names = _grid_names()
    people = display_names({r.recorded_by for r in filed.values()})
    rows = []
    for code in codes[:MAX_ROWS]:
        r = filed.get(code)
        if r is None:
            rows.append([month, names.get(code, code), "未填报", "", "", "", "", ""])
            continue
        rows.append([month, names.get(code, code), "已填报", people.get(r.recorded_by, r.recorded_by),
                     _yes(r.zero_report and r.confirmed), r.items_count, mask_text(r.items_text),
                     _local(r.recorded_at, "%Y-%m-%d %H:%M")])
    return _respond("returns", "矛盾纠纷排查台账", RETURN_HEADERS, rows, grid,
                    actor, len(codes) > MAX_ROWS, month)

