"""fengqiao-agenda (居民议事): the walkthrough plugin of ``plugins/AUTHORING.md``.

Residents propose topics for their community's 居民议事会 through an intake-only form (no
case opens); the community's staff put them on the agenda or decline them. Imports only
``fengqiao.sdk`` from the core (plus Flask and SQLAlchemy).
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.events import submission_received
from fengqiao.sdk.forms import submit_form
from fengqiao.sdk.models import db
from fengqiao.sdk.plugin import Plugin

from fengqiao_agenda.items import FORM_KEY, record_proposal
from fengqiao_agenda.models import AgendaItem  # registers agenda_items on the plugin's metadata

__all__ = ["AgendaItem", "AgendaPlugin"]
DEMO_COMMUNITY = "339901001001"  # 揽月社区 of the demo county


def load_demo() -> None:
    """Demo data: one proposal for 揽月社区, so /p/agenda/ is not empty. Idempotent."""
    if not db.scalar(sa.select(sa.func.count()).select_from(AgendaItem)):
        submit_form(FORM_KEY, {"topic": "3 幢楼道加装扶手", "details": "老人上下楼不便。", "name": "李桂英"},
                    org=DEMO_COMMUNITY, channel="web")


class AgendaPlugin(Plugin):
    name = "agenda"
    title = "居民议事"
    description = "示例插件：居民提出议题，社区议事会采纳或答复。"
    api_version = ">=1.5,<2"  # intake-only forms and scope by unit code came with 1.5
    demo_only = True  # a walkthrough: never on a production install
    form_definitions = "form_definitions"
    templates = "templates"
    migrations = "migrations"

    def blueprint(self):
        from fengqiao_agenda.views import pages

        return pages

    def api_blueprint(self):
        from fengqiao_agenda.api import api

        return api

    def setup(self, ctx) -> None:
        ctx.connect(submission_received, record_proposal)
        ctx.add_permission("manage", "处理居民议题", roles=("staff", "leader"))
        ctx.add_menu_item("p_agenda.index", "居民议事", permission="agenda.manage")
        ctx.add_demo_data(load_demo)
