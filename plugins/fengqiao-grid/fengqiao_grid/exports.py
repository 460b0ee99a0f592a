"""台账 exports (masked, Chinese headers): the people living in the caller's grids now.

Capped at 20,000 rows (a grid holds a few thousand people); who exported what is a row of the
audit log (the count, never the values)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.files import workbook_bytes, xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.privacy import audit, mask_id_card, mask_mobile, mask_name
from fengqiao.sdk.workdays import today_local

from fengqiao_grid.access import VIEW, addresses_in_scope
from fengqiao_grid.models import (
    CARE_TAGS,
    RELATIONS,
    RESIDENCE_TYPES,
    GridAddress,
    GridPerson,
    GridResidence,
)
from fengqiao_grid.people import age

MAX_ROWS = 20000
PEOPLE_HEADERS = ["人员编号", "姓名", "身份证号", "性别", "年龄", "手机号", "所属网格", "地址", "与户主关系", "居住类型",
                  "迁入日期", "关怀对象"]


def people_workbook(grid: str | None, actor: str):
    """The people living now in the caller's grids (or one of them) as an .xlsx download."""
    stmt = (sa.select(GridPerson, GridResidence, GridAddress)
            .join(GridResidence, sa.and_(GridResidence.person_id == GridPerson.id, GridResidence.moved_out_on.is_(None)))
            .join(GridAddress, GridAddress.id == GridResidence.address_id)
            .where(addresses_in_scope(VIEW)))
    if grid:
        stmt = stmt.where(GridAddress.grid_code == grid)
    rows = db.execute(stmt.order_by(GridAddress.grid_code, GridAddress.code, GridPerson.id).limit(MAX_ROWS)).all()
    names = {u.code: u.name for u in org_units(level="grid", active_only=False)}
    today = today_local()
    data = workbook_bytes("实有人口", PEOPLE_HEADERS, (
        [f"RK{p.id:07d}", mask_name(p.name), mask_id_card(p.id_card), "男" if p.gender == "M" else "女",
         age(p, today), mask_mobile(p.mobile) if p.mobile else "", names.get(a.grid_code, a.grid_code), a.label,
         RELATIONS[s.relation], RESIDENCE_TYPES[s.residence_type], s.moved_in_on.isoformat(),
         "、".join(CARE_TAGS[k] for k in p.care_tags.split(",") if k in CARE_TAGS)]
        for p, s, a in rows))
    audit("grid.export_people", record=f"grid-export:{grid or 'scope'}", org=grid, actor=actor,
          detail={"rows": len(rows)})
    return xlsx_response(f"实有人口台账-{today}.xlsx", data)
