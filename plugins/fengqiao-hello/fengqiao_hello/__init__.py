"""fengqiao-hello (问候): the smallest example plugin of ``plugins/AUTHORING.md``.

Imports only ``fengqiao.sdk`` from the core (plus Flask, SQLAlchemy and click).
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.cases import case_data
from fengqiao.sdk.events import submission_received
from fengqiao.sdk.forms import submit_form
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.plugin import Plugin
from fengqiao.sdk.web import render
from sqlalchemy.exc import IntegrityError

# Importing the model registers ``hello_greetings`` on the plugin's own metadata, so that
# Alembic's comparison of models and database knows the table.
from fengqiao_hello.models import HelloGreeting

__all__ = ["HelloGreeting", "HelloPlugin"]
FORM_KEY = "hello-greeting"


def on_submission(sender, **kwargs) -> None:
    """``submission_received``: remember each greeting once (signals may be re-sent)."""
    if kwargs.get("form_key") != FORM_KEY:
        return
    number = kwargs["case_number"]
    if db.scalar(sa.select(HelloGreeting.id).where(HelloGreeting.case_number == number)):
        return
    data = case_data(number) or {}
    db.add(HelloGreeting(case_number=number, name=str(data.get("name", ""))[:50]))
    try:
        db.commit()
    except IntegrityError:  # a concurrent delivery of the same signal stored it first
        db.rollback()


def demo_greeting() -> None:
    """Demo data (``fengqiao demo``): one greeting, so /p/hello/ is not empty. Idempotent."""
    if not db.scalar(sa.select(sa.func.count()).select_from(HelloGreeting)):
        communities = org_units(level="community", kind="territorial")  # a resident names where they live
        if communities:
            submit_form(FORM_KEY, {"name": "王阿姨", "message": "社区工作人员辛苦了！"}, channel="web",
                        org=communities[0].code)


def render_widget() -> str:
    from fengqiao_hello.views import greeting_count

    return render("hello/widget.html", total=greeting_count())


class HelloPlugin(Plugin):
    name = "hello"
    title = "问候"
    description = "示例插件：居民留下问候，工作人员查看。"
    api_version = ">=1.6,<2"  # org_units(kind="territorial") came with 1.6
    demo_only = True  # a walkthrough: never on a production install
    form_definitions = "form_definitions"
    templates = "templates"
    migrations = "migrations"
    settings_schema = {
        "type": "object",
        "properties": {
            "greeting_text": {"type": "string", "title": "问候语", "default": "欢迎",
                              "minLength": 1, "maxLength": 20},
        },
        "additionalProperties": False,
    }

    def blueprint(self):
        from fengqiao_hello.views import pages

        return pages

    def api_blueprint(self):
        from fengqiao_hello.views import api

        return api

    def cli(self):
        from fengqiao_hello.cli import hello

        return hello

    def setup(self, ctx) -> None:
        ctx.connect(submission_received, on_submission)
        ctx.add_permission("view", "查看问候", roles=("staff",))
        ctx.add_menu_item("p_hello.index", "问候")
        ctx.add_widget("count", "收到的问候", render_widget, permission="hello.view")
        ctx.add_demo_data(demo_greeting)
