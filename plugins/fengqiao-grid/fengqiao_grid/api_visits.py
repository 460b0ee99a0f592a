"""JSON routes of the grid worker's day under ``/api/v1/p/grid/`` (on the plugin's one API
blueprint): visits, patrols, diary entries, the monthly dispute return and the metrics.

Same rules as ``api.py``: an object in the path or the body outside the caller's grids is the
uniform 404, a grid named in the body a 422 at ``/grid``, ``?grid=`` of another grid a 404;
free text (findings, diary, dispute text) is masked in every answer.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from fengqiao.sdk.errors import Invalid, not_found
from fengqiao.sdk.orgs import org_in_scope, org_scope_clause
from fengqiao.sdk.privacy import mask_text
from fengqiao.sdk.web import (
    current_user,
    document,
    idempotent,
    json_body,
    paginate,
    query,
    requires,
)
from fengqiao.sdk.workdays import today_local
from flask import request

from fengqiao_grid import metrics, visits
from fengqiao_grid.access import MANAGE, VIEW, address_in_scope, household_in_scope, my_grids
from fengqiao_grid.api import GRID_Q, NOT_IN_SCOPE, PAGE, TAG, api
from fengqiao_grid.models import GridAddress
from fengqiao_grid.models_visits import GridDiaryEntry, GridDisputeReturn, GridPatrol, GridVisit

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTH_Q = query("month", "月份 YYYY-MM（默认本月）")
CURSOR_Q = query("cursor", "上一页返回的 next_cursor")
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 128},
                   "description": "离线待上传重发时保证只登记一次：按网格员和接口区分；同一键、不同内容返回 422"}


def _grid_arg(required: bool = False) -> str | None:
    """``?grid=``: a grid of the caller's (else 404); when required and left out, the caller's
    only grid, else 422."""
    grid = (request.args.get("grid") or "").strip() or None
    if grid is not None:
        if not org_in_scope(grid, VIEW):
            raise not_found("/grid")
        return grid
    if required:
        grids = my_grids(VIEW)
        if len(grids) != 1:
            raise Invalid([("/grid", "请选择网格", "required")])
        return grids[0].code
    return None


def _month_arg() -> str:
    month = (request.args.get("month") or "").strip()
    if not month:
        return visits.month_of(today_local())
    if not MONTH.match(month):
        raise Invalid([("/month", "月份应为 YYYY-MM，如 2026-03", "format")])
    return month


def _visit_page(stmt: sa.Select) -> dict:
    stmt = stmt.join(GridAddress, GridAddress.id == GridVisit.address_id).where(
        org_scope_clause(GridVisit.grid_code, VIEW))
    page = paginate(stmt, (GridVisit.visited_on, GridVisit.id), limit=PAGE)
    return {"items": [visits.visit_json(v, label) for v, label in page.items], "next_cursor": page.next_cursor}


VISIT_LIST = "{items: [{id, grid, address, household, unit, date, purpose, purpose_label, findings, case_number, " \
             "worker, photos}], next_cursor}"


@api.post("/visits")
@requires(MANAGE)
@idempotent  # a phone's 待上传 queue sends again after a lost answer: one visit, one case
def add_visit():
    visit = visits.record_visit(json_body({"type": "object"}), current_user.username)
    out = {"id": visit.id}
    if visit.case_number:
        out["case_number"] = visit.case_number
    return out, 201


document("/p/grid/visits", "post", "登记走访（住户或实有单位；可附照片，可一键上报网格事件）", tag=TAG,
         body=visits.VISIT_BODY, params=[IDEMPOTENCY_KEY],
         responses={201: "{id, case_number?}", 200: "同一网格员以同一 Idempotency-Key 重发相同内容：返回第一次的结果", 403: "需要 grid.manage 权限", 404: f"/address 地址或 /unit 单位{NOT_IN_SCOPE}",
                    422: "字段错误（/findings 上报事件须填写走访情况；/photos 照片格式或大小 …）；"
                         "同一 Idempotency-Key 用于不同内容（idempotency_mismatch）"})


@api.get("/visits")
@requires(VIEW)
def list_visits():
    stmt = sa.select(GridVisit, GridAddress.label)
    grid = _grid_arg()
    if grid:
        stmt = stmt.where(GridVisit.grid_code == grid)
    worker = (request.args.get("worker") or "").strip()[:64]
    if worker:
        stmt = stmt.where(GridVisit.worker == worker)
    return _visit_page(stmt)


document("/p/grid/visits", "get", "走访记录（新的在前，每页 50 条；可按网格、网格员筛选）", tag=TAG,
         params=[GRID_Q, query("worker", "网格员账号"), CURSOR_Q],
         responses={200: VISIT_LIST, 401: "需登录", 404: f"网格{NOT_IN_SCOPE}"})


@api.get("/addresses/<int:address_id>/visits")
@requires(VIEW)
def address_visits(address_id: int):
    address = address_in_scope(address_id, VIEW)
    return _visit_page(sa.select(GridVisit, GridAddress.label).where(GridVisit.address_id == address.id))


document("/p/grid/addresses/{address_id}/visits", "get", "某地址的走访记录", tag=TAG, params=[CURSOR_Q],
         responses={200: VISIT_LIST, 401: "需登录", 404: f"地址{NOT_IN_SCOPE}"})


@api.get("/households/<int:household_id>/visits")
@requires(VIEW)
def household_visits(household_id: int):
    household = household_in_scope(household_id, VIEW)
    return _visit_page(sa.select(GridVisit, GridAddress.label).where(GridVisit.household_id == household.id))


document("/p/grid/households/{household_id}/visits", "get", "某住户的走访记录", tag=TAG, params=[CURSOR_Q],
         responses={200: VISIT_LIST, 401: "需登录", 404: f"住户{NOT_IN_SCOPE}"})


@api.post("/patrols")
@requires(MANAGE)
def add_patrol():
    return {"id": visits.record_patrol(json_body({"type": "object"}), current_user.username).id}, 201


document("/p/grid/patrols", "post", "登记巡查日志", tag=TAG, body=visits.PATROL_BODY,
         responses={201: "{id}", 403: "需要 grid.manage 权限", 422: "字段错误；/grid 网格不在辖区内"})


@api.get("/patrols")
@requires(VIEW)
def list_patrols():
    stmt = sa.select(GridPatrol).where(org_scope_clause(GridPatrol.grid_code, VIEW))
    grid = _grid_arg()
    if grid:
        stmt = stmt.where(GridPatrol.grid_code == grid)
    page = paginate(stmt, (GridPatrol.patrolled_on, GridPatrol.id), limit=PAGE)
    return {"items": [{"id": p.id, "grid": p.grid_code, "date": p.patrolled_on.isoformat(), "route": mask_text(p.route),
                       "findings": mask_text(p.findings), "worker": p.worker} for p in page.items],
            "next_cursor": page.next_cursor}


document("/p/grid/patrols", "get", "巡查日志（新的在前）", tag=TAG, params=[GRID_Q, CURSOR_Q],
         responses={200: "{items: [{id, grid, date, route, findings, worker}], next_cursor}", 401: "需登录",
                    404: f"网格{NOT_IN_SCOPE}"})


@api.post("/diary")
@requires(MANAGE)
def add_diary():
    return {"id": visits.record_diary(json_body({"type": "object"}), current_user.username).id}, 201


document("/p/grid/diary", "post", "写民情日记（可关联住户）", tag=TAG, body=visits.DIARY_BODY,
         responses={201: "{id}", 403: "需要 grid.manage 权限", 404: f"/household 住户{NOT_IN_SCOPE}",
                    422: "字段错误；/grid 网格不在辖区内"})


@api.get("/diary")
@requires(VIEW)
def list_diary():
    stmt = sa.select(GridDiaryEntry).where(org_scope_clause(GridDiaryEntry.grid_code, VIEW))
    grid = _grid_arg()
    if grid:
        stmt = stmt.where(GridDiaryEntry.grid_code == grid)
    page = paginate(stmt, (GridDiaryEntry.written_on, GridDiaryEntry.id), limit=PAGE)
    return {"items": [{"id": d.id, "grid": d.grid_code, "date": d.written_on.isoformat(), "text": mask_text(d.text),
                       "household": d.household_id, "worker": d.worker} for d in page.items],
            "next_cursor": page.next_cursor}


document("/p/grid/diary", "get", "民情日记（新的在前；内容脱敏）", tag=TAG, params=[GRID_Q, CURSOR_Q],
         responses={200: "{items: [{id, grid, date, text, household, worker}], next_cursor}", 401: "需登录",
                    404: f"网格{NOT_IN_SCOPE}"})


@api.post("/returns")
@requires(MANAGE)
def add_return():
    return visits.return_json(visits.record_return(json_body({"type": "object"}), current_user.username)), 201


document("/p/grid/returns", "post", "填报月度矛盾纠纷排查情况（发现件数与情况，或零报告并确认）；每网格每月一份", tag=TAG,
         body=visits.RETURN_BODY,
         responses={201: "{id, grid, month, zero_report, confirmed, items_count, items_text, recorded_by, recorded_at}",
                    403: "需要 grid.manage 权限", 409: "该月已填报",
                    422: "字段错误（/confirmed 零报告须确认；/items_count …）；/grid 网格不在辖区内"})


@api.get("/returns")
@requires(VIEW)
def list_returns():
    stmt = sa.select(GridDisputeReturn).where(org_scope_clause(GridDisputeReturn.grid_code, VIEW))
    grid = _grid_arg()
    if grid:
        stmt = stmt.where(GridDisputeReturn.grid_code == grid)
    month = (request.args.get("month") or "").strip()
    if month:
        stmt = stmt.where(GridDisputeReturn.month == _month_arg())
    page = paginate(stmt, GridDisputeReturn.id, limit=PAGE)
    return {"items": [visits.return_json(r) for r in page.items], "next_cursor": page.next_cursor}


document("/p/grid/returns", "get", "月度矛盾纠纷排查情况（含零报告）", tag=TAG, params=[GRID_Q, MONTH_Q, CURSOR_Q],
         responses={200: "{items: [{id, grid, month, zero_report, confirmed, items_count, items_text, recorded_by, "
                         "recorded_at}], next_cursor}", 401: "需登录", 404: f"网格{NOT_IN_SCOPE}",
                    422: "/month 月份格式"})


@api.get("/metrics")
@requires(VIEW)
def get_metrics():
    return metrics.grid_metrics(_grid_arg(required=True), _month_arg())


document("/p/grid/metrics", "get", "网格月度指标：住户、人口、走访、覆盖率、走访天数与目标、关怀对象未按时走访", tag=TAG,
         params=[GRID_Q, MONTH_Q],
         responses={200: "{grid, month, as_of, households, people, visits, coverage (0..1), coverage_days, "
                         "households_visited, visit_days, visit_days_target, workers, dispute_return, care_households, care_overdue, "
                         "care_overdue_households}", 401: "需登录", 404: f"网格{NOT_IN_SCOPE}",
                    422: "/grid 未选择网格；/month 月份格式"})
