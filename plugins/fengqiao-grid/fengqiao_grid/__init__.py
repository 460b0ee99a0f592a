"""fengqiao-grid (网格基础信息): each grid's standard addresses (小区 → 楼栋 → 单元 → 户), the
households and people living there (实有人口) and the units working there (实有单位).

Imports only ``fengqiao.sdk`` from the core (plus Flask and SQLAlchemy).
"""

from __future__ import annotations

from fengqiao.sdk.plugin import Plugin

# Importing the models registers the ``grid_…`` tables on the plugin's own metadata.
from fengqiao_grid.models import (
    GridAddress,
    GridAddressMove,
    GridEstablishment,
    GridHousehold,
    GridPerson,
    GridResidence,
    GridSpecialRecord,
)
from fengqiao_grid.models_cases import GridCaseAddress  # which standard address a case is about
from fengqiao_grid.models_visits import (  # the worker's day: visits, patrols, diary, returns
    GridDiaryEntry,
    GridDisputeReturn,
    GridPatrol,
    GridVisit,
    GridVisitPhoto,
)

__all__ = ["GridAddress", "GridAddressMove", "GridEstablishment", "GridHousehold", "GridPerson", "GridPlugin",
           "GridResidence", "GridSpecialRecord", "GridDiaryEntry", "GridDisputeReturn", "GridPatrol", "GridVisit",
           "GridVisitPhoto", "GridCaseAddress"]


class GridPlugin(Plugin):
    name = "grid"
    title = "网格基础信息"
    description = "标准地址、实有人口、实有单位：网格员一次采集，处处复用。"
    api_version = ">=1.11,<2"  # case summaries by unit (1.10); address provider, case panels, idempotent (1.11)
    templates = "templates"
    static = "static"
    migrations = "migrations"
    settings_schema = {
        "type": "object",
        "properties": {
            "visit_days_target": {"type": "integer", "title": "每月入户走访目标（天）", "default": 20,
                                  "minimum": 1, "maximum": 31},
            "coverage_days": {"type": "integer", "title": "走访覆盖率统计周期（天）", "default": 90,
                              "minimum": 7, "maximum": 366},
        },
        "additionalProperties": False,
    }

    def blueprint(self):
        from fengqiao_grid import (
            case_panel,  # noqa: F401  (an address's cases join the pages blueprint)
            import_views,  # noqa: F401  (adds the import's routes)
            today,  # noqa: F401  (the worker's day joins the pages blueprint)
        )
        from fengqiao_grid.pages import pages

        return pages

    def api_blueprint(self):
        from fengqiao_grid import (
            api_ledgers,  # noqa: F401  (the 台账 downloads join the API blueprint)
            api_visits,  # noqa: F401  (the worker's day joins the API blueprint)
            import_views,  # noqa: F401  (adds the import's routes)
        )
        from fengqiao_grid.api import api

        return api

    def setup(self, ctx) -> None:
        ctx.add_permission("view", "查看网格基础信息（地址、人口、单位）",
                           roles=("grid_worker", "staff", "leader", "supervisor"))
        ctx.add_permission("manage", "采集和维护网格基础信息", roles=("grid_worker", "staff"))
        ctx.add_permission("special", "查看和登记特殊人群（每次查看记入审计日志）", roles=("leader",), admin=False)
        ctx.add_menu_item("p_grid.today", "今天（网格员）", permission="grid.manage")
        ctx.add_menu_item("p_grid.index", "标准地址与人口", permission="grid.view")
        ctx.add_menu_item("p_grid.units", "实有单位", permission="grid.view")
        from fengqiao.sdk.events import case_created

        from fengqiao_grid import case_links, case_panel, demo
        from fengqiao_grid.lookup import GridAddresses

        ctx.add_demo_data(demo.load)
        ctx.connect(case_created, case_links.on_case_created)  # link new cases to their standard address
        ctx.add_case_panel("address", "地址与住户", case_panel.panel, permission="grid.view")
        ctx.provide_addresses(GridAddresses())  # the forms' address picker, and other plugins' look-ups
