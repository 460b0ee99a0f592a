"""fengqiao-vanguard (党员先锋指数): party members scored against published indicator sets,
reviewed by their branch, publicly noticed each quarter and rated with stars each year.

Imports only ``fengqiao.sdk`` from the core. Receives ``volunteer.hours_confirmed`` from the
volunteer plugin by name (never imports it) and works without it.
"""

from __future__ import annotations

from fengqiao.sdk.events import org_moved
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import rewrite_paths
from fengqiao.sdk.plugin import Plugin

# Importing the models registers the ``vanguard_`` tables on the plugin's own metadata.
from fengqiao_vanguard.models import (
    EventHistory,
    Indicator,
    IndicatorSet,
    Member,
    Notice,
    Objection,
    Rating,
    ScoreEvent,
)
from fengqiao_vanguard.receivers import hours_confirmed, on_hours_confirmed

__all__ = ["EventHistory", "Indicator", "IndicatorSet", "Member", "Notice", "Objection", "Rating",
           "ScoreEvent", "VanguardPlugin"]


def follow_unit_move(sender, **kwargs) -> None:
    """``org_moved``: the unit paths this plugin keeps (for range scans) follow the move."""
    for column in (Member.org_path, Notice.org_path):
        rewrite_paths(column, kwargs["old_path"], kwargs["new_path"])
    db.commit()  # a receiver commits its own work


class VanguardPlugin(Plugin):
    name = "vanguard"
    title = "党员先锋指数"
    description = "按指标体系为党员记分，支部审核，季度公示，年度评星。"
    api_version = ">=1.6,<2"  # org_units(kind="territorial") came with 1.6
    templates = "templates"
    static = "static"
    migrations = "migrations"
    settings_schema = {
        "type": "object",
        "properties": {
            "volunteer_rate": {"type": "number", "title": "双报到志愿服务每小时折算分值", "default": 0.5,
                               "minimum": 0, "maximum": 10},
            "volunteer_year_cap": {"type": "number", "title": "志愿服务每年最多折算分值", "default": 10,
                                   "minimum": 0, "maximum": 100},
            "volunteer_indicator": {"type": "string", "title": "志愿服务计入的指标代码",
                                    "default": "double_report", "minLength": 1, "maxLength": 40},
            "objection_days": {"type": "integer", "title": "公示异议期（工作日）", "default": 5,
                               "minimum": 1, "maximum": 30},
        },
        "additionalProperties": False,
    }

    def blueprint(self):
        from fengqiao_vanguard.views import pages

        return pages

    def api_blueprint(self):
        from fengqiao_vanguard.api import api

        return api

    def cli(self):
        from fengqiao_vanguard.cli import vanguard

        return vanguard

    def setup(self, ctx) -> None:
        from fengqiao_vanguard.notices import NOTICE_KIND

        ctx.add_notification_kind(NOTICE_KIND, "先锋指数公示")
        ctx.connect(hours_confirmed, on_hours_confirmed)
        ctx.connect(org_moved, follow_unit_move)
        ctx.add_permission("review", "党员先锋指数：登记党员、审核积分、公示评星", roles=("staff",))
        ctx.add_permission("manage", "党员先锋指数：编辑和发布指标体系", roles=("admin",))
        ctx.add_menu_item("p_vanguard.index", "先锋指数")
        ctx.add_public_link("p_vanguard.honour", "先锋榜", "社区党员先锋指数和星级")
        from fengqiao_vanguard.demo import load_demo

        ctx.add_demo_data(load_demo)
