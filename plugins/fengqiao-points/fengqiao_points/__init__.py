"""fengqiao-points (积分超市): rules, claims with public notice, an append-only ledger,
products and redemptions that never overspend.

Imports only ``fengqiao.sdk`` from the core (plus Flask, SQLAlchemy, Werkzeug and click).
"""

from __future__ import annotations

from fengqiao.sdk.events import case_transitioned, org_moved, submission_received
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import rewrite_paths
from fengqiao.sdk.plugin import Plugin

# Importing the models registers the ``points_…`` tables on the plugin's own metadata.
from fengqiao_points.models import (
    PointsAccount,
    PointsClaim,
    PointsLedger,
    PointsObjection,
    PointsProduct,
    PointsRedemption,
    PointsRule,
)

__all__ = ["PointsAccount", "PointsClaim", "PointsLedger", "PointsObjection", "PointsPlugin",
           "PointsProduct", "PointsRedemption", "PointsRule"]


def follow_unit_move(sender, **kwargs) -> None:
    """``org_moved``: the unit paths this plugin keeps (for range scans) follow the move."""
    for column in (PointsAccount.org_path, PointsRule.org_path):
        rewrite_paths(column, kwargs["old_path"], kwargs["new_path"])
    db.commit()  # a receiver commits its own work


class PointsPlugin(Plugin):
    name = "points"
    title = "积分超市"
    description = "文明积分：规则、申报公示、积分台账与积分兑换。"
    api_version = ">=1.6,<2"  # org_units(kind="territorial") came with 1.6
    form_definitions = "form_definitions"
    templates = "templates"
    static = "static"
    migrations = "migrations"
    settings_schema = {
        "type": "object",
        "properties": {
            "notice_days": {"type": "integer", "title": "公示期（工作日）", "default": 5,
                            "minimum": 1, "maximum": 15},
            "reservation_days": {"type": "integer", "title": "预约保留天数（逾期自动释放）", "default": 7,
                                 "minimum": 1, "maximum": 60},
            "year_end_expiry": {"type": "boolean", "title": "年末清零上一年度前获得的剩余积分",
                                "default": False},
        },
        "additionalProperties": False,
    }

    def blueprint(self):
        from fengqiao_points.pages import pages

        return pages

    def api_blueprint(self):
        from fengqiao_points.api import api

        return api

    def cli(self):
        from fengqiao_points.cli import points

        return points

    def setup(self, ctx) -> None:
        from fengqiao_points import claims, demo, expiry, redemptions
        from fengqiao_points.widget import render_widget

        ctx.add_notification_kind(claims.DECIDED_KIND, "积分申报结果")
        ctx.add_notification_kind(redemptions.EXPIRED_KIND, "兑换预约释放")

        ctx.connect(submission_received, claims.on_submission)
        ctx.connect(case_transitioned, claims.on_transition)
        ctx.connect(org_moved, follow_unit_move)
        ctx.add_permission("view", "查看积分账户与台账", roles=("staff", "supervisor", "grid_worker", "leader"))
        ctx.add_permission("manage", "开户、管理商品、柜台兑换核销", roles=("staff",))
        ctx.add_permission("propose", "申报积分", roles=("staff", "grid_worker"))
        ctx.add_permission("rules", "编辑积分规则", roles=("admin",))
        ctx.add_permission("adjust", "人工调整积分", roles=("admin",))
        ctx.add_menu_item("p_points.index", "积分超市", permission="points.view")
        ctx.add_public_link("p_points.shelf", "积分超市", "查询积分、预约兑换商品")
        ctx.add_public_link("p_points.board", "积分公示", "正在公示的积分申报，有异议可以提出")
        ctx.add_widget("overview", "积分超市", render_widget, permission="points.view")
        ctx.register_job("end_notices", claims.end_notices, every=60)
        ctx.register_job("release_reservations", redemptions.release_overdue, every=300)
        ctx.register_job("year_end_expiry", expiry.expire_year_end, every=3600)
        ctx.add_demo_data(demo.load)
