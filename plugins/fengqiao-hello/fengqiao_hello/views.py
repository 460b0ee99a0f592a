"""Pages (mounted at ``/p/hello/``) and JSON routes (mounted at ``/api/v1/p/hello/``).

Plugin routes require a signed-in account unless marked ``@public``; ``@requires(perm)``
narrows a route to accounts holding a permission.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.web import document, public, render, requires
from flask import Blueprint

from fengqiao_hello.models import HelloGreeting

pages = Blueprint("hello", __name__)
api = Blueprint("hello_api", __name__)


def latest(limit: int = 50) -> list[HelloGreeting]:
    return list(db.scalars(
        sa.select(HelloGreeting).order_by(HelloGreeting.id.desc()).limit(limit)
    ))


def greeting_count() -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(HelloGreeting)) or 0


@pages.get("/")
def index():
    """收到的问候 — no decorator: any signed-in account (the default for plugin routes)."""
    return render("hello/index.html", greetings=latest(), total=greeting_count(),
                  greeting_text=plugin_settings("hello")["greeting_text"])


@pages.get("/wall")
@public
def wall():
    """问候墙 — anyone, including anonymous residents. Shows no personal data."""
    return render("hello/wall.html", total=greeting_count(),
                  greeting_text=plugin_settings("hello")["greeting_text"])


@api.get("/greetings")
@requires("hello.view")
def greetings():
    return {"items": [g.to_json() for g in latest(100)]}


document(
    "/p/hello/greetings", "get", "收到的问候（最新 100 条）", tag="hello",
    responses={200: "{items: [{id, case_number, name, created_at}]}",
               401: "需登录", 403: "需要 hello.view 权限"},
)
