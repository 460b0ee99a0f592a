"""Excel exports (masked): volunteers with their totals, and the hours ledger. Capped at
20 000 rows (a community's volunteers fit many times over); the scope is the caller's."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.files import workbook_bytes, xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.privacy import mask_id_card, mask_mobile, mask_name, mask_text
from fengqiao.sdk.web import requires
from fengqiao.sdk.workdays import today_local

from fengqiao_volunteer.models import Activity, HoursEntry, ReportUnit, Volunteer
from fengqiao_volunteer.rules import stars_for
from fengqiao_volunteer.web import VIEW, pages, scope

MAX_ROWS = 20000


@pages.get("/export/volunteers.xlsx")
@requires(VIEW)
def export_volunteers():
    totals = (sa.select(HoursEntry.volunteer_id, sa.func.sum(HoursEntry.hours).label("total"))
              .group_by(HoursEntry.volunteer_id).subquery())
    rows = db.execute(sa.select(Volunteer, totals.c.total, ReportUnit.name)
                      .outerjoin(totals, totals.c.volunteer_id == Volunteer.id)
                      .outerjoin(ReportUnit, ReportUnit.id == Volunteer.report_unit_id)
                      .where(scope(VIEW).clause(Volunteer.org_path)).order_by(Volunteer.id).limit(MAX_ROWS)).all()
    names = {u.code: u.name for u in org_units(active_only=False)}
    data = workbook_bytes("志愿者名册", ["志愿者编号", "姓名", "身份证号", "手机号", "所在社区", "党员", "双报到",
                                       "报到单位", "累计工时", "星级"], (
        [f"ZYZ{v.id:06d}", mask_name(v.name), mask_id_card(v.id_card), mask_mobile(v.mobile) if v.mobile else "",
         names.get(v.org, v.org), "是" if v.party_member else "否", "是" if v.double_report else "否", unit or "",
         float(total or 0), stars_for(total or 0)] for v, total, unit in rows))
    return xlsx_response(f"志愿者名册-{today_local()}.xlsx", data)


@pages.get("/export/hours.xlsx")
@requires(VIEW)
def export_hours():
    rows = db.execute(sa.select(HoursEntry, Volunteer.name, Volunteer.id_card, Activity.title)
                      .join(Volunteer, Volunteer.id == HoursEntry.volunteer_id)
                      .outerjoin(Activity, Activity.id == HoursEntry.activity_id)
                      .where(scope(VIEW).clause(Volunteer.org_path))
                      .order_by(HoursEntry.served_on, HoursEntry.id).limit(MAX_ROWS)).all()
    data = workbook_bytes("志愿服务工时", ["记录号", "服务日期", "志愿者编号", "姓名", "身份证号", "活动", "工时",
                                         "更正记录号", "更正原因", "确认人", "确认时间"], (
        [e.id, e.served_on.isoformat(), f"ZYZ{e.volunteer_id:06d}", mask_name(name), mask_id_card(id_card),
         title or "", float(e.hours), e.corrects_id or "", mask_text(e.reason or ""), e.confirmed_by or "", e.confirmed_at]
        for e, name, id_card, title in rows))
    return xlsx_response(f"志愿服务工时-{today_local()}.xlsx", data)
