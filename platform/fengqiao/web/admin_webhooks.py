"""``/admin/webhooks``: integrators' endpoints of the admin's units, their delivery logs.

Scoped like other unit configuration (``orgs.manage``): an endpoint of a unit outside the
admin's subtrees is 404 on every route. The secret is shown once, in the answer to the
creation or regeneration (never stored in the session, never shown again); the page says so.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.db import db
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.models import Delivery, OrgUnit, WebhookEndpoint
from fengqiao.orgs import service as orgs
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.web.blueprint import web_bp
from fengqiao.webhooks import EVENT_LABELS
from fengqiao.webhooks import service as hooks

PAGE_SIZE = 50
LOG_PAGE_SIZE = 20
STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "dead": "失败"}


def _scope():
    return scope_for(current_user, hooks.PERMISSION)


def _units() -> dict[str, OrgUnit]:
    return {u.code: u for u in db.scalars(orgs.units_in(_scope(), include_inactive=False))}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return hooks.visible_endpoint(endpoint_id, _scope())
    except NotFound:
        abort(404)


def _submitted() -> dict:
    form = request.form
    return {"name": form.get("name", ""), "org": form.get("org", ""), "url": form.get("url", ""),
            "events": form.getlist("events"), "personal": form.get("personal") == "1",
            "active": form.get("active") == "1"}


def _errors(failed: Invalid) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pointer, message, _code in failed.problems:
        found.setdefault(pointer.lstrip("/") or "form", []).append(message)
    return found


def _no_store(page: str):
    """A page showing a secret: never cached, never kept in the browser's history cache."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@web_bp.get("/admin/webhooks")
@requires(hooks.PERMISSION)
def webhook_list():
    page = keyset_page(hooks.visible(_scope()), WebhookEndpoint.id, request.args.get("cursor"), PAGE_SIZE)
    units = {u.id: u for u in db.scalars(orgs.units_in(_scope()))}
    return render_template("admin/webhooks.html", page=page, units=units, event_labels=EVENT_LABELS)


@web_bp.route("/admin/webhooks/new", methods=["GET", "POST"])
@requires(hooks.PERMISSION)
def webhook_new():
    units = _units()
    values, errors = {"events": [], "active": True}, {}
    if request.method == "POST":
        values = _submitted()
        try:
            endpoint, secret = hooks.create(hooks.clean(values, units), current_user._get_current_object())
        except Invalid as failed:
            errors = _errors(failed)
        else:
            return _no_store(render_template("admin/webhook_secret.html", endpoint=endpoint, secret=secret,
                                             created=True))
    status = 422 if errors else 200
    return render_template("admin/webhook_form.html", endpoint=None, values=values, errors=errors, units=units,
                           event_labels=EVENT_LABELS), status


@web_bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@requires(hooks.PERMISSION)
def webhook_detail(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    values = {"name": endpoint.name, "url": endpoint.url, "events": list(endpoint.events or []),
              "personal": endpoint.personal, "active": endpoint.active}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _submitted()
        try:
            hooks.update(endpoint, hooks.clean(values, {}, need_unit=False))
        except Invalid as failed:
            errors = _errors(failed)
        else:
            flash("已保存推送地址设置", "success")
            return redirect(url_for("web.webhook_detail", endpoint_id=endpoint.id))
    log = keyset_page(hooks.deliveries(endpoint), Delivery.id, request.args.get("cursor"), LOG_PAGE_SIZE)
    status = 422 if errors else 200
    return render_template("admin/webhook_form.html", endpoint=endpoint, values=values, errors=errors,
                           unit=db.get(OrgUnit, endpoint.org_id), log=log, status_labels=STATUS_LABELS,
                           event_labels=EVENT_LABELS), status


@web_bp.post("/admin/webhooks/<int:endpoint_id>/secret")
@requires(hooks.PERMISSION)
def webhook_secret(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    secret = hooks.rotate_secret(endpoint)
    return _no_store(render_template("admin/webhook_secret.html", endpoint=endpoint, secret=secret, created=False))


@web_bp.post("/admin/webhooks/<int:endpoint_id>/delete")
@requires(hooks.PERMISSION)
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    name = endpoint.name
    hooks.delete(endpoint)
    flash(f"已删除推送地址：{name}", "success")
    return redirect(url_for("web.webhook_list"))


@web_bp.post("/admin/webhooks/<int:endpoint_id>/ping")
@requires(hooks.PERMISSION)
def webhook_ping(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    try:
        hooks.ping(endpoint)
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash("已发送测试事件（ping），结果见下方推送记录", "success")
    return redirect(url_for("web.webhook_detail", endpoint_id=endpoint.id))


@web_bp.post("/admin/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@requires(hooks.PERMISSION)
def webhook_resend(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(endpoint_id)
    try:
        row = hooks.delivery_of(endpoint, delivery_id)
    except NotFound:
        abort(404)
    try:
        hooks.resend(endpoint, row)
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash("已重新加入发送队列", "success")
    return redirect(url_for("web.webhook_detail", endpoint_id=endpoint.id))
