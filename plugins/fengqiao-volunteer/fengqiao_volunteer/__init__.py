"""fengqiao-volunteer (志愿服务): volunteers and teams, activities with first-come enrollment,
the hours ledger, stars with a notice period, service-record certificates, 微心愿 on the case
engine and 双报到. Imports only ``fengqiao.sdk`` from the core.

Sends ``volunteer.hours_confirmed`` (README documents its keyword arguments).
"""

from __future__ import annotations

from fengqiao.sdk.events import case_transitioned, org_moved
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import rewrite_paths
from fengqiao.sdk.plugin import Plugin
from fengqiao.sdk.web import render

# Importing the models registers the plugin's tables on its own metadata.
from fengqiao_volunteer.models import (
    Activity,
    CertificateRecord,
    Dispute,
    Enrollment,
    EnrollmentEvent,
    HoursEntry,
    ReportUnit,
    StarAward,
    Team,
    Volunteer,
    WishClaim,
)
from fengqiao_volunteer.rules import SETTINGS_SCHEMA

__all__ = ["Activity", "CertificateRecord", "Dispute", "Enrollment", "EnrollmentEvent", "HoursEntry", "ReportUnit",
           "StarAward", "Team", "Volunteer", "VolunteerPlugin", "WishClaim"]


def follow_unit_move(sender, **kwargs) -> None:
    """``org_moved``: the unit paths this plugin keeps (for range scans) follow the move."""
    for column in (ReportUnit.org_path, Team.org_path, Volunteer.org_path, Activity.org_path):
        rewrite_paths(column, kwargs["old_path"], kwargs["new_path"])
    db.commit()  # a receiver commits its own work


def finalise_star_awards() -> int:
    """Periodic job: star awards whose 公示 period has ended become final."""
    from fengqiao_volunteer.hours import finalise_awards

    return finalise_awards()


def on_wish_transition(sender, **kwargs) -> None:
    """A released 微心愿 is free again: forget who had claimed it (the case keeps the history)."""
    if kwargs.get("action") != "release":
        return
    import sqlalchemy as sa

    db.execute(sa.delete(WishClaim).where(WishClaim.case_number == kwargs["case_number"]))
    db.commit()


def render_widget() -> str:
    from fengqiao_volunteer.views import widget_figures

    return render("volunteer/widget.html", **widget_figures())


def load_demo() -> None:
    from fengqiao_volunteer.demo import load

    load()


class VolunteerPlugin(Plugin):
    name = "volunteer"
    title = "志愿服务"
    description = "志愿者与队伍、活动报名签到、工时与星级、服务记录证明、微心愿、在职党员双报到。"
    api_version = ">=1.3,<2"
    form_definitions = "form_definitions"
    templates = "templates"
    static = "static"
    migrations = "migrations"
    settings_schema = SETTINGS_SCHEMA

    def blueprint(self):
        from fengqiao_volunteer.views import pages

        return pages

    def api_blueprint(self):
        from fengqiao_volunteer.api import api

        return api

    def cli(self):
        from fengqiao_volunteer.cli import volunteer

        return volunteer

    def setup(self, ctx) -> None:
        from fengqiao_volunteer.activities import PROMOTED_KIND

        ctx.add_notification_kind(PROMOTED_KIND, "候补转正")
        ctx.add_permission("manage", "管理志愿服务（登记、活动、工时）", roles=("staff",))
        ctx.add_permission("view", "查看志愿服务", roles=("staff", "supervisor", "viewer"))
        ctx.add_menu_item("p_volunteer.index", "志愿服务", permission="volunteer.view")
        ctx.add_public_link("p_volunteer.star_notice", "志愿者星级公示", "公示中的志愿者星级，有异议可以提出")
        ctx.add_widget("summary", "志愿服务", render_widget, permission="volunteer.view")
        ctx.register_job("finalise_stars", finalise_star_awards, every=3600)
        ctx.connect(case_transitioned, on_wish_transition)
        ctx.connect(org_moved, follow_unit_move)
        ctx.add_demo_data(load_demo)
