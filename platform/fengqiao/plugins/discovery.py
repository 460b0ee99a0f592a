"""Find installed plugins with stevedore, once per process, and check each one.

stevedore swallows load errors unless told otherwise: every failure is recorded with its
reason (import error, incompatible ``api_version``, duplicate name, not a Plugin) so that
``fengqiao plugins list`` and ``/admin/plugins`` can show it; nothing else is affected.
Entry points only change when a distribution is (re)installed, so the result is cached.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from stevedore import ExtensionManager

from fengqiao.plugins.base import API_VERSION, Plugin

log = logging.getLogger(__name__)
NAMESPACE = "fengqiao.plugins"
VALID_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # as FENGQIAO_PLUGINS accepts



@dataclass
class PluginRecord:
    name: str
    version: str | None
    api_version: str | None
    state: str  # enabled | disabled | failed | incompatible
    reason: str | None = None
    title: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "version": self.version,
                "api_version": self.api_version, "state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class Discovery:
    plugins: tuple[Plugin, ...]  # loadable: compatible, unique names
    records: tuple[PluginRecord, ...]  # one per installed entry point (or name)


def _versions() -> dict[tuple[str, str], str]:
    """(entry-point name, target) → version of the distribution declaring it (one scan);
    the target tells apart two distributions that declare the same name."""
    return {
        (ep.name, ep.value): ep.dist.version
        for ep in metadata.entry_points(group=NAMESPACE)
        if getattr(ep, "dist", None) is not None
    }


@lru_cache(maxsize=1)
def discover() -> Discovery:
    """Every installed plugin, checked; failures are records, never exceptions."""
    failures: list[PluginRecord] = []

    def on_failure(_manager, entry_point, exc):
        log.error("plugin %s failed to import: %s", entry_point.name, exc)
        failures.append(PluginRecord(entry_point.name, versions.get((entry_point.name, entry_point.value)), None, "failed",
                                     f"导入失败: {exc.__class__.__name__}: {exc}"))

    versions = _versions()
    manager = ExtensionManager(NAMESPACE, invoke_on_load=False, on_load_failure_callback=on_failure)
    records = list(failures)
    by_name: dict[str, list[tuple[Plugin, PluginRecord]]] = {}
    for ext in manager:
        version = versions.get((ext.name, ext.entry_point.value))
        cls = ext.plugin
        if not (isinstance(cls, type) and issubclass(cls, Plugin)):
            records.append(PluginRecord(ext.name, version, None, "failed",
                                        "入口点必须指向 fengqiao.sdk.Plugin 的子类"))
            continue
        try:
            plugin = cls()
        except Exception as exc:  # a constructor bug is that plugin's failure only
            records.append(PluginRecord(ext.name, version, None, "failed", f"实例化失败: {exc}"))
            continue
        name = plugin.name or ext.name
        record = PluginRecord(name, version, plugin.api_version, "enabled", None, plugin.title or name)
        if not VALID_NAME.match(name):  # it namespaces URLs, tables and FENGQIAO_PLUGINS
            record.state, record.reason = "failed", f"插件名 {name!r} 无效（应为小写字母、数字和 _）"
            records.append(record)
            continue
        plugin.name = name  # an empty name falls back to the entry point's
        try:
            compatible = Version(API_VERSION) in SpecifierSet(plugin.api_version or "")
        except InvalidSpecifier:
            record.state, record.reason = "failed", f"api_version {plugin.api_version!r} 无效"
            records.append(record)
            continue
        if not compatible:
            record.state = "incompatible"
            record.reason = f"需要插件接口 {plugin.api_version}，本系统提供 {API_VERSION}"
            records.append(record)
            continue
        by_name.setdefault(name, []).append((plugin, record))

    loadable = []
    for _name, entries in sorted(by_name.items()):
        if len(entries) > 1:
            for _plugin, record in entries:
                record.state, record.reason = "failed", "duplicate_name: 多个插件使用同一名称，均未加载"
                records.append(record)
            continue
        plugin, record = entries[0]
        loadable.append(plugin)
        records.append(record)
    return Discovery(tuple(loadable), tuple(sorted(records, key=lambda r: (r.name, r.state))))
