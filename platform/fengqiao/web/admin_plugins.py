"""``/admin/plugins``: installed plugins, their state and reason, the switch and settings."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.exceptions import Invalid
from fengqiao.params import finite_float
from fengqiao.plugins import state
from fengqiao.plugins.loader import plugin_report
from fengqiao.validation import validate
from fengqiao.web.blueprint import web_bp


@web_bp.get("/admin/plugins")
@requires("plugins.manage")
def plugin_admin_list():
    contexts = current_app.extensions.get("fengqiao.plugin_contexts", {})
    return render_template("admin/plugins.html", report=plugin_report(), contexts=contexts)


@web_bp.post("/admin/plugins/<name>/switch")
@requires("plugins.manage")
def plugin_admin_switch(name: str):
    if name not in current_app.extensions.get("fengqiao.plugins", {}):
        abort(404)
    enabled = request.form.get("enabled") == "1"
    state.set_enabled(name, enabled, current_user.username)
    title = getattr(current_app.extensions["fengqiao.plugins"][name], "title", "") or name
    flash(f"插件「{title}」已{'启用' if enabled else '停用'}（数据保留）", "success")
    return redirect(url_for("web.plugin_admin_list"))


def _coerce(schema: dict, raw: dict) -> dict:
    """Form strings → the types the settings schema asks for (bad numbers are left as text)."""
    values = {}
    for key, prop in schema.get("properties", {}).items():
        text = raw.get(key, "").strip()
        kind = prop.get("type")
        if kind == "boolean":
            values[key] = raw.get(key) == "on"
        elif text == "":
            continue
        elif kind in ("integer", "number"):
            try:
                number = finite_float(text)
                values[key] = int(number) if kind == "integer" and number.is_integer() else number
            except ValueError:
                values[key] = text
        else:
            values[key] = text
    return values


def _kept_secrets(schema: dict, posted: dict, saved: dict) -> dict:
    """Secrets (``writeOnly``) left blank keep their saved value: the page never shows them."""
    return {k: saved[k] for k, prop in schema.get("properties", {}).items()
            if prop.get("writeOnly") and k not in posted and k in saved}


@web_bp.route("/admin/plugins/<name>", methods=["GET", "POST"])
@requires("plugins.manage")
def plugin_admin_settings(name: str):
    plugin = current_app.extensions.get("fengqiao.plugins", {}).get(name)
    if plugin is None:
        abort(404)
    schema = plugin.settings_schema or {"type": "object", "properties": {}}
    ctx = current_app.extensions["fengqiao.plugin_contexts"][name]
    values, errors = ctx.settings(), {}
    if request.method == "POST":
        values = _coerce(schema, request.form)
        values |= _kept_secrets(schema, values, ctx.settings())
        try:
            validate(schema, values)
        except Invalid as failed:
            errors = {p.lstrip("/"): m for p, m, _c in failed.problems}
        else:
            state.save_settings(name, values, current_user.username)
            flash("设置已保存", "success")
            return redirect(url_for("web.plugin_admin_settings", name=name))
    return render_template("admin/plugin_settings.html", plugin=plugin, schema=schema,
                           values=values, errors=errors, ctx=ctx), 422 if errors else 200
