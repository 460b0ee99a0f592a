"""Sign-in, sign-out, the dashboard and health."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from fengqiao.access import login_required, public
from fengqiao.accounts.login_guard import second_factor_ok, sign_in
from fengqiao.accounts.service import LoginFailed
from fengqiao.cases import queries as case_queries
from fengqiao.db import db
from fengqiao.exceptions import DomainError
from fengqiao.forms import drafts, store
from fengqiao.health import health_report
from fengqiao.models import OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import capped_label
from fengqiao.web.account import TotpCodeForm
from fengqiao.web.blueprint import web_bp
from fengqiao.web.forms import LoginForm

TOTP_PENDING = "_fq_totp_pending"
GRID_REPORT_FORM = "grid-incident"  # the grid worker's 上报事件 (form_definitions/grid-incident.json)
DRAFT_CAP = 99
TOTP_PENDING_SECONDS = 300


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
        try:  # failures are rate-limited and slowed down inside sign_in; successes are not
            user = sign_in(form.username.data, form.password.data)
        except LoginFailed as failed:
            error = failed.message
        else:
            target = _safe_next(request.args.get("next"))
            session.clear()  # fresh session on sign-in (no fixation)
            if user.totp_enabled:  # the password was right: now the second factor
                session[TOTP_PENDING] = {"user": user.id, "epoch": user.session_epoch,
                                         "at": int(time.time()), "next": target}
                return redirect(url_for("web.login_totp"))
            login_user(user)
            return redirect(target)
    status = 200 if error is None and not form.errors else 422
    return render_template("login.html", form=form, error=error), status


def _pending_user() -> User | None:
    pending = session.get(TOTP_PENDING)
    if not isinstance(pending, dict) or int(time.time()) - int(pending.get("at", 0)) > TOTP_PENDING_SECONDS:
        return None
    user = db.get(User, pending.get("user"))
    if user is None or not user.active or user.session_epoch != pending.get("epoch") or not user.totp_enabled:
        return None
    return user


@web_bp.route("/login/totp", methods=["GET", "POST"])
@public
def login_totp():
    """The second step for accounts with TOTP: the 6-digit code, within five minutes."""
    user = _pending_user()
    if user is None:
        session.pop(TOTP_PENDING, None)
        flash("请先输入用户名和密码", "info")
        return redirect(url_for("web.login"))
    form = TotpCodeForm()
    error = None
    if form.validate_on_submit():
        try:
            ok = second_factor_ok(user, form.code.data)
        except LoginFailed as failed:
            session.pop(TOTP_PENDING, None)
            error = failed.message
        else:
            if ok:
                target = session[TOTP_PENDING].get("next") or url_for("web.dashboard")
                session.clear()  # the accepted code's step is committed with the sign-in
                login_user(user)
                return redirect(_safe_next(target))
            error = "动态验证码不正确或已使用，请输入手机上最新显示的 6 位数字"
    status = 200 if error is None and not form.errors else 422
    return render_template("account/login_totp.html", form=form, error=error), status


@web_bp.post("/logout")
@login_required
def logout():
    logout_user()  # ends this session's server-side row (accounts/sessions.py)
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("web.login"))


@web_bp.get("/")
@public
def dashboard():
    """Staff get their 工作台; residents (anonymous, or an account without a staff role) the
    public home: report, track, the 回音壁 and the enabled modules' public pages."""
    if not is_staff(current_user):
        return render_template("home_public.html", links=public_links())
    g.staff_page = True  # a staff page although the route is public: the bell shows (inbox.bell)
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
    dead = 0
    if current_user.can("orgs.manage"):  # unit admins: failed notifications waiting for a resend
        from fengqiao.notifications.settings import dead_count

        dead = dead_count(current_user)
    return render_template(
        "dashboard.html", unit_counts=unit_counts, queue_counts=queue_counts,
        queue_views=case_queries.VIEWS, widgets=_widgets(), dead_deliveries=dead,
        quick_report=_quick_report(), drafts=capped_label(drafts.count(current_user, DRAFT_CAP), DRAFT_CAP),
    )


def is_staff(user) -> bool:
    """Signed in with a role in some unit (an integration account is a program, not staff)."""
    return user.is_authenticated and any(m.role != "integration" for m in user.memberships)


def public_links() -> list[tuple[str, str, str]]:
    """(url, label, description) of the enabled modules' public pages (``ctx.add_public_link``).
    Only views marked ``@public``: the residents' home never leads to a sign-in page."""
    from fengqiao.access import access_of
    from fengqiao.plugins.state import is_active

    shown = []
    for link in current_app.extensions.get("fengqiao.public_links", []):
        access = access_of(current_app, link.endpoint)
        if access is None or access.kind != "public" or not is_active(link.plugin):
            continue
        shown.append((url_for(link.endpoint), link.label, link.description))
    return shown


def _quick_report() -> str | None:
    """The grid worker's big 上报事件 button: the grid incident form, while they may use it."""
    if not any(m.role == "grid_worker" for m in current_user.memberships):
        return None
    try:
        store.require_usable(GRID_REPORT_FORM, current_user)
    except DomainError:
        return None  # archived, unpublished, or not theirs to fill in
    return url_for("web.form_fill", key=GRID_REPORT_FORM)


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
