"""Find plugins through stevedore, check them, and mount what they contribute.

stevedore swallows load errors unless told otherwise: every failure is recorded here with
its reason and shown by ``fengqiao plugins list``; the app always starts without the
failed plugin.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from flask import Flask, current_app
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from stevedore import ExtensionManager

from fengqiao.sdk import API_VERSION, Plugin

log = logging.getLogger(__name__)
NAMESPACE = "fengqiao.plugins"


@dataclass
class PluginRecord:
    name: str
    version: str | None
    api_version: str | None
    state: str  # enabled | disabled | failed | incompatible
    reason: str | None = None
    title: str | None = None


def _dist_version(ep) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else None


def discover(enabled: tuple[str, ...] | None) -> tuple[list[Plugin], list[PluginRecord]]:
    """Load every installed plugin; return the enabled instances and a record per plugin."""
    failures: list[PluginRecord] = []

    def on_failure(_manager, entrypoint, exc):
        failures.append(
            PluginRecord(entrypoint.name, _dist_version(entrypoint), None, "failed",
                         f"导入失败: {exc.__class__.__name__}: {exc}")
        )

    manager = ExtensionManager(
        NAMESPACE, invoke_on_load=False, on_load_failure_callback=on_failure
    )
    records: list[PluginRecord] = list(failures)
    candidates: dict[str, list[tuple[Plugin, PluginRecord]]] = {}
    for ext in manager:
        version = _dist_version(ext.entry_point)
        cls = ext.plugin
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            records.append(PluginRecord(ext.name, version, None, "failed",
                                        "入口点必须指向 fengqiao.sdk.Plugin 的子类"))
            continue
        plugin = cls()
        name = plugin.name or ext.name
        record = PluginRecord(name, version, plugin.api_version, "enabled", None, plugin.title)
        try:
            compatible = Version(API_VERSION) in SpecifierSet(plugin.api_version or "")
        except InvalidSpecifier:
            record.state, record.reason = "failed", f"api_version {plugin.api_version!r} 无效"
            records.append(record)
            continue
        if not compatible:
            record.state = "incompatible"
            record.reason = f"需要插件接口 {plugin.api_version}，本系统为 {API_VERSION}"
            records.append(record)
            continue
        candidates.setdefault(name, []).append((plugin, record))

    loaded: list[Plugin] = []
    for name, entries in sorted(candidates.items()):
        if len(entries) > 1:
            for _plugin, record in entries:
                record.state, record.reason = "failed", "duplicate_name: 多个插件使用同一名称"
                records.append(record)
            continue
        plugin, record = entries[0]
        if enabled is not None and name not in enabled:
            record.state, record.reason = "disabled", "未在 FENGQIAO_PLUGINS 中启用"
        else:
            loaded.append(plugin)
        records.append(record)
    return loaded, sorted(records, key=lambda r: r.name)


def load_plugins(app: Flask) -> None:
    settings = app.extensions["fengqiao.settings"]
    plugins, records = discover(settings.plugins)
    by_name = {r.name: r for r in records}
    login_blueprints: set[str] = set()
    active = []
    for plugin in plugins:
        record = by_name[plugin.name]
        try:
            plugin.setup(app)
            bp = plugin.blueprint()
            if bp is not None:
                app.register_blueprint(bp, url_prefix=f"/p/{plugin.name}", name=f"p_{plugin.name}")
                login_blueprints.add(f"p_{plugin.name}")
            active.append(plugin)
        except Exception as exc:  # a broken plugin must never stop the platform
            log.exception("plugin %s failed in setup", plugin.name)
            record.state, record.reason = "failed", f"setup() 出错: {exc.__class__.__name__}: {exc}"
    app.extensions["fengqiao.plugins"] = active
    app.extensions["fengqiao.plugin_records"] = records
    app.extensions["fengqiao.login_blueprints"] = login_blueprints


def plugin_report(app: Flask | None = None) -> list[dict]:
    app = app or current_app
    return [asdict(r) for r in app.extensions.get("fengqiao.plugin_records", [])]


__all__ = ["discover", "load_plugins", "plugin_report"]
