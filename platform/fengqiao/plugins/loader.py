"""Mount the plugins this process loads: blueprints, templates, static files, ``setup()``.

Which plugins load is decided once at start (installed, compatible, unique, named by
``FENGQIAO_PLUGINS``, and not ``demo_only`` outside demo/testing mode); the admin's switch is
checked per request (see ``state``). A plugin that raises in ``setup()`` is recorded as
failed and left out; the app starts regardless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from flask import Flask, abort, current_app, request, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from fengqiao.access import public
from fengqiao.plugins.context import PluginContext
from fengqiao.plugins.discovery import PluginRecord, discover

log = logging.getLogger(__name__)
DEMO_ONLY_REASON = "示例插件，仅在演示（demo）和测试模式下启用"


@dataclass
class PermissionRegistry:
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, set[str]] = field(default_factory=dict)


def _mount_static(app: Flask, plugin) -> None:
    folder = plugin.package_path(plugin.static)
    if folder is None:
        return

    @public
    def plugin_static(filename: str):
        return send_from_directory(folder, filename, max_age=3600)

    app.add_url_rule(f"/p/{plugin.name}/static/<path:filename>", f"p_{plugin.name}_static", plugin_static)


def _mount(app: Flask, plugin, ctx: PluginContext, owners: dict[str, str]) -> None:
    plugin.setup(ctx)
    page_bp = plugin.blueprint()
    if page_bp is not None:
        app.register_blueprint(page_bp, url_prefix=f"/p/{plugin.name}", name=f"p_{plugin.name}")
        owners[f"p_{plugin.name}"] = plugin.name
        app.extensions["fengqiao.login_blueprints"].add(f"p_{plugin.name}")  # login by default
    api = plugin.api_blueprint()
    if api is not None:
        from fengqiao.csrf import csrf, protect_cookie_writes

        csrf.exempt(api)  # no form token on JSON; the core API's rule instead (kept per app, not on the
        # plugin's Blueprint object, which several test apps register)
        app.register_blueprint(api, url_prefix=f"/api/v1/p/{plugin.name}", name=f"papi_{plugin.name}")
        app.before_request_funcs.setdefault(f"papi_{plugin.name}", []).insert(0, protect_cookie_writes)
        owners[f"papi_{plugin.name}"] = plugin.name
        app.extensions["fengqiao.login_blueprints"].add(f"papi_{plugin.name}")
    _mount_static(app, plugin)


def _forget(app: Flask, name: str) -> None:
    """Undo what a plugin's ``setup()`` registered before it raised: a menu entry pointing at
    a route that was never mounted would break every page. (Its receivers stay connected
    but never run: the plugin is not loaded, so ``is_active`` is false.)"""
    ext = app.extensions
    owners = ext["fengqiao.menu_owner"]
    ext["fengqiao.menu"][:] = [m for m in ext["fengqiao.menu"] if owners.get(m[0]) != name]
    for endpoint in [e for e, owner in owners.items() if owner == name]:
        del owners[endpoint]
    ext["fengqiao.widgets"][:] = [w for w in ext["fengqiao.widgets"] if w.plugin != name]
    ext["fengqiao.case_panels"][:] = [p for p in ext["fengqiao.case_panels"] if p.plugin != name]
    if ext.get("fengqiao.address_provider", (None,))[0] == name:
        del ext["fengqiao.address_provider"]
    prefix = f"{name}."
    for job in [j for j in ext["fengqiao.jobs"] if j.startswith(prefix)]:
        del ext["fengqiao.jobs"][job]
    registry = ext["fengqiao.permissions"]
    for perm in [p for p in registry.labels if p.startswith(prefix)]:
        del registry.labels[perm]
    for perms in registry.extra.values():
        perms.difference_update({p for p in perms if p.startswith(prefix)})


def load_plugins(app: Flask) -> None:
    settings = app.extensions["fengqiao.settings"]
    found = discover()
    wanted = settings.plugins  # None = every installed plugin
    records: list[PluginRecord] = [replace(r) for r in found.records]
    # Loadable plugins have unique names; failed ones (both duplicates!) stay in the list.
    loadable: dict[str, PluginRecord] = {r.name: r for r in records if r.state == "enabled"}
    app.extensions.update({
        "fengqiao.plugins": {},
        "fengqiao.plugin_contexts": {},
        "fengqiao.blueprint_owner": {},
        "fengqiao.login_blueprints": set(),  # plugin routes: login unless @public (access.py)
        "fengqiao.menu_owner": {},
        "fengqiao.widgets": [],
        "fengqiao.case_panels": [],
        "fengqiao.permissions": PermissionRegistry(),
    })
    app.extensions.setdefault("fengqiao.menu", [])
    templates: dict[str, FileSystemLoader] = {}
    for plugin in found.plugins:
        record = loadable[plugin.name]
        if plugin.demo_only and settings.mode not in ("demo", "testing"):
            # Samples (the hello walkthrough lists residents' names to any account) never run
            # on a real install, even when FENGQIAO_PLUGINS names them.
            record.state, record.reason = "disabled", DEMO_ONLY_REASON
            continue
        if wanted is not None and plugin.name not in wanted:
            record.state, record.reason = "disabled", "未在 FENGQIAO_PLUGINS 中启用"
            continue
        ctx = PluginContext(app, plugin.name)
        app.extensions["fengqiao.plugins"][plugin.name] = plugin
        try:
            _mount(app, plugin, ctx, app.extensions["fengqiao.blueprint_owner"])
        except Exception as exc:  # a broken plugin must never stop the platform
            log.exception("plugin %s failed in setup", plugin.name)
            del app.extensions["fengqiao.plugins"][plugin.name]
            _forget(app, plugin.name)
            record.state, record.reason = "failed", f"setup() 出错: {exc.__class__.__name__}: {exc}"
            continue
        app.extensions["fengqiao.plugin_contexts"][plugin.name] = ctx
        folder = plugin.package_path(plugin.templates)
        if folder is not None:
            templates[plugin.name] = FileSystemLoader(str(folder))
    if templates:
        # Themes stay first, so a theme may override "<plugin>/<page>.html" too.
        theme_loader, core_loader = app.jinja_loader.loaders
        app.jinja_loader = ChoiceLoader([theme_loader, PrefixLoader(templates), core_loader])
    app.extensions["fengqiao.plugin_records"] = sorted(records, key=lambda r: (r.name, r.version or ""))

    @app.before_request
    def _hide_disabled_plugins():
        owner = app.extensions["fengqiao.blueprint_owner"].get(request.blueprint or "")
        if owner is None and request.endpoint and request.endpoint.startswith("p_"):
            owner = request.endpoint[2:].rsplit("_static", 1)[0]
        if owner is not None:
            from fengqiao.plugins.state import is_active

            if not is_active(owner):
                abort(404)


def plugin_report(app: Flask | None = None) -> list[dict]:
    """Every installed plugin with its state in this app, the admin switch applied."""
    app = app or current_app
    from fengqiao.plugins.state import disabled_names

    try:
        switched_off = disabled_names()
    except Exception:  # no database yet (e.g. before `db upgrade`): report what we know
        switched_off = set()
    report = []
    for record in app.extensions.get("fengqiao.plugin_records", []):
        entry = record.to_json()
        if record.state == "enabled" and record.name in switched_off:
            entry["state"], entry["reason"] = "disabled", "管理员已停用"
        report.append(entry)
    return report
