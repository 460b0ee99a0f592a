"""Notification settings pages: 「我的通知」 (a user's own addresses and channels), the unit
admin's 「通知设置」 (event switches, default channels, quiet hours, group robots) and the
delivery list with its dead letters and 「重新发送」.

The logic lives in ``fengqiao.notifications.settings``; here only form parsing. Addresses
are never written into a page in full, not even back into the form after a mistake.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import login_required, requires
from fengqiao.exceptions import Invalid
from fengqiao.masking import mask_text
from fengqiao.notifications import settings as svc
from fengqiao.notifications.channels import personal_channels, unit_channels
from fengqiao.notifications.fanout import settings_chain
from fengqiao.params import page_limit, parse_int
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 50


def _errors(failed: Invalid) -> dict[str, str]:
    found: dict[str, str] = {}
    for pointer, message, _code in failed.problems:
        found.setdefault(pointer.lstrip("/").split("/")[0] or "_form", message)
    return found


# ---- 我的通知 ------------------------------------------------------------------------------------


def _address(name: str):
    """A posted address: a new value, "" when 「清除」 is ticked, else leave it."""
    text = request.form.get(name, "").strip()
    if text:
        return text
    return "" if request.form.get(f"clear_{name}") == "1" else svc.KEEP


@web_bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def account_notifications():
    user = current_user._get_current_object()
    errors: dict[str, str] = {}
    if request.method == "POST":
        mode = request.form.get("mode", "default")
        channels = {"keep": svc.KEEP, "custom": request.form.getlist("channels")}.get(mode)  # else: unit defaults
        try:
            changed = svc.save_prefs(user, email=_address("email"), mobile=_address("mobile"), channels=channels)
        except Invalid as failed:
            errors = _errors(failed)
        else:
            flash("通知设置已保存" if changed else "没有需要保存的修改", "success")
            return redirect(url_for("web.account_notifications"))
    return render_template("account/notifications.html", prefs=svc.prefs_json(user), errors=errors,
                           channels=personal_channels()), 422 if errors else 200


# ---- 单位通知设置 ---------------------------------------------------------------------------------


def _admin_page(unit, errors=None, channel_errors=None, status=200):
    user = current_user._get_current_object()
    parents = settings_chain(unit.parent_id)
    inherited = sorted({k for s in parents for k in (s.off_kinds or [])})
    channels = unit_channels()
    return render_template(
        "admin/notifications.html", unit=unit, units=svc.manageable_units(user), current=svc.unit_json(unit),
        kinds=svc.kind_choices(), inherited=inherited, personal=personal_channels(), channels=channels,
        fields={name: svc.config_fields(c) for name, c in channels.items()}, errors=errors or {},
        channel_errors=channel_errors or {}, dead=svc.dead_count(user)), status


def _unit_from(source) -> object:
    user = current_user._get_current_object()
    code = source.get("unit")
    if not code:
        units = svc.manageable_units(user)
        code = units[0].code if units else None
    return svc.unit_for(user, code)  # outside the admin's units: 404


@web_bp.route("/admin/notifications", methods=["GET", "POST"])
@requires(svc.MANAGE)
def notification_admin():
    if request.method == "GET":
        return _admin_page(_unit_from(request.args))
    unit = _unit_from(request.form)
    kinds = svc.kind_choices()
    on = set(request.form.getlist("on_kinds"))
    try:
        changed = svc.save_unit_settings(unit, off_kinds=[k for k in kinds if k not in on],
                                         default_channels=request.form.getlist("default_channels"),
                                         quiet_start=request.form.get("quiet_start", ""),
                                         quiet_end=request.form.get("quiet_end", ""))
    except Invalid as failed:
        return _admin_page(unit, errors=_errors(failed), status=422)
    flash(f"{unit.name}的通知设置已保存" if changed else "没有需要保存的修改", "success")
    return redirect(url_for("web.notification_admin", unit=unit.code))


@web_bp.post("/admin/notifications/channels/<name>")
@requires(svc.MANAGE)
def notification_admin_channel(name: str):
    unit = _unit_from(request.form)
    try:
        svc.save_channel_config(unit, name, request.form.to_dict())
    except Invalid as failed:
        return _admin_page(unit, channel_errors={name: _errors(failed)}, status=422)
    flash(f"「{unit_channels()[name].label or name}」配置已保存", "success")
    return redirect(url_for("web.notification_admin", unit=unit.code) + f"#channel-{name}")


@web_bp.post("/admin/notifications/channels/<name>/test")
@requires(svc.MANAGE)
def notification_admin_test(name: str):
    unit = _unit_from(request.form)
    try:
        svc.send_test(unit, name, current_user._get_current_object())
    except Invalid as failed:
        return _admin_page(unit, channel_errors={name: _errors(failed)}, status=422)
    flash("测试消息已排队发送，结果见下方投递记录", "success")
    return redirect(url_for("web.delivery_list", channel=name))


# ---- 投递记录与失败重发 ---------------------------------------------------------------------------


@web_bp.get("/admin/notifications/deliveries")
@requires(svc.MANAGE)
def delivery_list():
    user = current_user._get_current_object()
    filters = svc.parse_filter(request.args.get("status"), request.args.get("channel"))
    page = svc.delivery_page(user, filters, request.args.get("cursor"), page_limit(PAGE_SIZE, 200))
    return render_template("admin/deliveries.html", page=page, filters=filters, labels=svc.target_labels(page.items),
                           statuses=svc.STATUS_LABELS, channels=svc.channel_names(user), event_label=svc.event_label,
                           channel_label=svc.channel_label, mask_text=mask_text, dead=svc.dead_count(user))


@web_bp.post("/admin/notifications/deliveries/resend")
@requires(svc.MANAGE)
def delivery_resend():
    one = request.form.get("one")
    raw = [one] if one else request.form.getlist("ids")
    ids = [parse_int(v) for v in raw]
    if not ids or any(i is None for i in ids):
        flash("请先勾选要重新发送的记录" if not ids else "记录编号无效，请从列表页面提交", "error")
    else:
        count = svc.resend_many(current_user._get_current_object(), ids)  # another unit's row: 404
        flash(f"已重新发送 {count} 条" if count else "所选记录正在等待发送，无需重发", "success")
    filters = svc.parse_filter(request.form.get("status"), request.form.get("channel"))
    return redirect(url_for("web.delivery_list", **filters.args()))
