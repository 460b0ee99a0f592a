"""Admin pages for staff accounts: list, create, detail, Excel export, and the security
levers (revoke API tokens, unlock, sign out everywhere)."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.accounts import directory, security
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.accounts.service import announce_user_created, create_user
from fengqiao.db import db, utcnow
from fengqiao.errors import APIError
from fengqiao.exceptions import Invalid
from fengqiao.exports import workbook_bytes, xlsx_response
from fengqiao.models import User
from fengqiao.orgs import service as orgs
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.params import parse_int
from fengqiao.web.blueprint import web_bp
from fengqiao.web.forms import UserForm, option_values, options
from fengqiao.web.validation import apply_problems

PAGE_SIZE = 50
log = logging.getLogger(__name__)


@web_bp.get("/admin/users")
@requires("users.view")
def user_list():
    scope = scope_for(current_user, "users.view")
    page = keyset_page(directory.users_in(scope), User.id, request.args.get("cursor"),
                       PAGE_SIZE, descending=False)
    can_manage = not scope_for(current_user, "users.manage").empty
    return render_template("admin/users.html", page=page, can_manage=can_manage)


@web_bp.get("/admin/users/export.xlsx")
@requires("users.view")
def user_export():
    users = db.scalars(directory.users_in(scope_for(current_user, "users.view")).order_by(User.id))
    rows = (
        (u.username, u.display_name, m.org.code, m.org.name, ROLE_LABELS.get(m.role, m.role),
         "启用" if u.active else "停用", u.created_at)
        for u in users
        for m in u.memberships
    )
    title = f"用户名册（导出于 {utcnow().astimezone().strftime('%Y-%m-%d')}）"
    data = workbook_bytes(title, ["用户名", "姓名", "单位代码", "单位", "角色", "状态", "创建时间"], rows)
    return xlsx_response("用户名册.xlsx", data)


@web_bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("users.manage")
def user_new():
    form = UserForm()
    units = db.scalars(orgs.units_in(scope_for(current_user, "users.manage"), include_inactive=False))
    form.org.choices = options((u.code, f"{'　' * u.depth}{u.name}（{u.code}）") for u in units)
    if form.validate_on_submit():
        if form.org.data not in option_values(form.org):
            form.org.errors = ["请选择有权限管理的单位"]
        else:
            try:
                user = create_user(form.username.data, form.password.data, form.role.data,
                                   form.org.data, form.display_name.data or "")
            except Invalid as failed:
                apply_problems(form, failed)
            else:
                announce_user_created(user)
                flash(f"已创建用户：{user.username}", "success")
                return redirect(url_for("web.user_detail", username=user.username))
    status = 422 if form.errors else 200
    return render_template("admin/user_form.html", form=form), status


@web_bp.get("/admin/users/<username>")
@requires("users.view")
def user_detail(username: str):
    user = directory.visible_user(username, scope_for(current_user, "users.view"))
    if user is None:
        abort(404)
    can_manage = directory.visible_user(username, scope_for(current_user, "users.manage")) is not None
    return render_template("admin/user_detail.html", user=user, can_manage=can_manage,
                           tokens=security.tokens_of(user) if can_manage else [], now=utcnow(),
                           locked=bool(user.locked_until and user.locked_until > utcnow()))


SECURITY_ACTIONS = {
    "revoke_token": "已吊销该访问令牌",
    "revoke_all": "已吊销该用户的全部访问令牌",
    "unlock": "已解除登录锁定",
    "end_sessions": "已强制该用户在所有浏览器上退出登录",
}


@web_bp.post("/admin/users/<username>/security")
@requires("users.manage")
def user_security(username: str):
    """An administrator's levers on an account: revoke API tokens, unlock, sign out everywhere."""
    user = directory.visible_user(username, scope_for(current_user, "users.manage"))
    if user is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in SECURITY_ACTIONS:
        raise APIError(400, [("/action", "未知的操作，请从页面上的按钮提交", "enum")])
    if action == "revoke_token":
        token_id = request.form.get("token", "")
        if parse_int(token_id) is None or not security.revoke_tokens(user, parse_int(token_id)):
            flash("该令牌不存在或已吊销", "error")
            return redirect(url_for("web.user_detail", username=user.username))
    elif action == "revoke_all":
        security.revoke_tokens(user)
    elif action == "unlock":
        security.unlock(user)
    else:
        security.sign_out_everywhere(user)
    log.info("user %s: %s by user id %s", user.username, action, current_user.id)
    flash(SECURITY_ACTIONS[action], "success")
    return redirect(url_for("web.user_detail", username=user.username))
