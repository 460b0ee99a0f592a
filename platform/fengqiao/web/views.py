"""Sign-in, sign-out, the dashboard and health."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from fengqiao.access import login_required, public
from fengqiao.accounts.service import LoginFailed, authenticate
from fengqiao.cases import queries as case_queries
from fengqiao.db import db
from fengqiao.health import health_report
from fengqiao.models import OrgUnit
from fengqiao.orgs.scope import scope_for
from fengqiao.ratelimit import enforce
from fengqiao.web.blueprint import web_bp
from fengqiao.web.forms import LoginForm


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return url_for("web.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.dashboard")
    return target


@web_bp.get("/healthz")
@public
def healthz():
    body, status = health_report()
    return body, status


@web_bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        enforce("login")
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginFailed as failed:
            error = failed.message
        else:
            session.clear()  # fresh session on sign-in (no fixation)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if error is None and not form.errors else 422
    return render_template("login.html", form=form, error=error), status


@web_bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("web.login"))


@web_bp.get("/")
@login_required
def dashboard():
    scope = scope_for(current_user, "orgs.view")
    unit_counts = dict(
        db.execute(
            sa.select(OrgUnit.level, sa.func.count())
            .where(scope.clause(OrgUnit.path), OrgUnit.active)
            .group_by(OrgUnit.level)
        ).all()
    )
    queue_counts = {}
    if current_user.can("cases.view"):  # capped counts, as the queue's tabs (no full count(*))
        queue_counts = case_queries.view_counts(current_user, case_queries.Filters())
    return render_template(
        "dashboard.html", unit_counts=unit_counts, queue_counts=queue_counts,
        queue_views=case_queries.VIEWS, widgets=_widgets()
    )


def _widgets() -> list[tuple[str, Markup]]:
    """Dashboard cards from active plugins; a failing widget is logged and left out."""
    from fengqiao.plugins.state import disabled_names

    widgets = current_app.extensions.get("fengqiao.widgets", [])
    off = disabled_names() if widgets else set()
    shown = []
    for widget in widgets:
        if widget.plugin in off or (widget.permission and not current_user.can(widget.permission)):
            continue
        try:
            shown.append((widget.title, Markup(widget.render())))
        except Exception:  # one plugin's broken card must not break the dashboard
            current_app.logger.exception("widget %s.%s failed", widget.plugin, widget.name)
    return shown
