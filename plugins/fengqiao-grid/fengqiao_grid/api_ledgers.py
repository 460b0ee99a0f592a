"""The 台账 downloads under ``/api/v1/p/grid/`` (on the plugin's one API blueprint; the pages
link to them, so a session works as well as a token): 房屋, 单位, 走访记录 and 排查, next to
the 实有人口 one in ``api.py``. ``?grid=`` of another grid is the uniform 404; ``?month=`` is
``YYYY-MM`` (422 otherwise), this month when left out. Builders in ``exports.py``.
"""

from __future__ import annotations

from fengqiao.sdk.web import current_user, document, requires

from fengqiao_grid import exports
from fengqiao_grid.access import VIEW
from fengqiao_grid.api import GRID_Q, NOT_IN_SCOPE, TAG, _grid_arg, api
from fengqiao_grid.api_visits import MONTH_Q, _month_arg

XLSX = "xlsx 文件（中文表头，个人信息已脱敏）"
READ = {200: XLSX, 401: "需登录", 403: "需要 grid.view 权限", 404: f"网格{NOT_IN_SCOPE}"}
MONTHLY = {**READ, 422: "/month 月份应为 YYYY-MM"}


@api.get("/addresses/export.xlsx")
@requires(VIEW)
def export_addresses():
    return exports.addresses_workbook(_grid_arg(), current_user.username)


document("/p/grid/addresses/export.xlsx", "get", "房屋台账（标准地址、楼栋长/单元管家、在住户数与人数、出租房与房东，脱敏）",
         tag=TAG, params=[GRID_Q], responses=READ)


@api.get("/units/export.xlsx")
@requires(VIEW)
def export_units():
    return exports.units_workbook(_grid_arg(), current_user.username)


document("/p/grid/units/export.xlsx", "get", "单位台账（统一社会信用代码、联系人脱敏、下次安全检查与是否逾期）", tag=TAG,
         params=[GRID_Q], responses=READ)


@api.get("/visits/export.xlsx")
@requires(VIEW)
def export_visits():
    grid = _grid_arg()
    return exports.visits_workbook(grid, _month_arg(), current_user.username)


document("/p/grid/visits/export.xlsx", "get", "走访记录台账（某月；户主脱敏，走访情况中的号码脱敏）", tag=TAG,
         params=[GRID_Q, MONTH_Q], responses=MONTHLY)


@api.get("/returns/export.xlsx")
@requires(VIEW)
def export_returns():
    grid = _grid_arg()
    return exports.returns_workbook(grid, _month_arg(), current_user.username)


document("/p/grid/returns/export.xlsx", "get", "矛盾纠纷排查台账（某月各网格：发现件数、零报告及确认时间、未填报）", tag=TAG,
         params=[GRID_Q, MONTH_Q], responses=MONTHLY)
