"""``ctx``, what ``Plugin.setup(ctx)`` receives: the one way to hook into the core."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask

from fengqiao.db import utcnow

log = logging.getLogger(__name__)


@dataclass
class Widget:
    plugin: str
    name: str
    title: str
    render: Callable[[], str]
    permission: str | None = None


@dataclass
class CasePanel:
    plugin: str
    name: str
    title: str
    render: Callable[[Any], str | None]
    permission: str | None = None

    @property
    def key(self) -> str:
        """The panel's id on the case page (its tab's anchor)."""
        return f"case-p-{self.plugin}-{self.name}"


@dataclass(frozen=True)
class PublicLink:
    plugin: str
    endpoint: str
    label: str
    description: str


@dataclass
class ReceiverError:
    at: datetime
    signal: str
    error: str


@dataclass
class PluginContext:
    """Registered per plugin and app. Everything it adds is owned by ``plugin`` and
    disappears from menus, routes and signals while the plugin is switched off."""

    app: Flask
    plugin: str
    errors: list[ReceiverError] = field(default_factory=list)

    # -- signals ------------------------------------------------------------------------
    def connect(self, signal, receiver: Callable[..., Any]) -> None:
        """Run ``receiver(sender, **kwargs)`` when ``signal`` is sent by this app.

        A receiver that raises is logged and shown on the plugin's admin page; the core's
        request and data are unaffected. Receivers of a disabled plugin do not run.
        """
        from fengqiao.plugins.state import is_active

        plugin, errors = self.plugin, self.errors

        @functools.wraps(receiver)
        def guarded(sender, **kwargs):
            if not is_active(plugin):
                return None
            try:
                return receiver(sender, **kwargs)
            except Exception as exc:
                from fengqiao.db import db

                db.rollback()  # a half-done plugin write must not poison the request's session
                log.exception("plugin %s: receiver of %s failed", plugin, signal.name)
                errors.append(ReceiverError(utcnow(), signal.name, f"{exc.__class__.__name__}: {exc}"))
                del errors[:-20]  # keep the latest few
                return None

        signal.connect(guarded, sender=self.app, weak=False)

    # -- UI -------------------------------------------------------------------------------
    def add_menu_item(self, endpoint: str, label: str, permission: str | None = None,
                      group: str | None = None) -> None:
        """A sidebar link in ``group``: a core group (工作台, 事项, 统计, 系统管理) or any other
        title, by default the plugin's own (one group per module)."""
        from fengqiao.web.menu import MenuItem

        if group is None:
            plugin = self.app.extensions.get("fengqiao.plugins", {}).get(self.plugin)
            group = getattr(plugin, "title", "") or self.plugin
        if not isinstance(group, str) or not group.strip() or len(group) > 16:
            raise ValueError(f"menu group {group!r}: a title of 1 to 16 characters")
        self.app.extensions["fengqiao.menu"].append(MenuItem(endpoint, label, permission, group.strip()))
        self.app.extensions["fengqiao.menu_owner"][endpoint] = self.plugin

    def add_widget(self, name: str, title: str, render: Callable[[], str],
                   permission: str | None = None) -> None:
        """A dashboard card: ``render()`` returns HTML (escape user data; use templates)."""
        self.app.extensions["fengqiao.widgets"].append(Widget(self.plugin, name, title, render, permission))

    def add_case_panel(self, name: str, title: str, render: Callable[[Any], str | None],
                       permission: str | None = None) -> None:
        """A tab of the staff case page titled ``title``: ``render(case)`` gets the case as a
        ``fengqiao.sdk.cases.CaseSummary`` (never the core's model) and returns HTML, or None
        when it has nothing for this case (no tab). Shown after the page's own scope check, to
        viewers holding ``permission`` over the case's unit; one that raises is logged and
        shows 「该部分暂时无法显示」."""
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name or "") or not title or len(title) > 12:
            raise ValueError(f"case panel {name!r}: a name of [a-z0-9_-] and a title of at most 12 characters")
        panels = self.app.extensions.setdefault("fengqiao.case_panels", [])
        if any(p.plugin == self.plugin and p.name == name for p in panels):
            raise ValueError(f"case panel {name!r} is already registered by plugin {self.plugin!r}")
        panels.append(CasePanel(self.plugin, name, title, render, permission))

    def add_public_link(self, endpoint: str, label: str, description: str = "") -> None:
        """A big entry on the residents' home page (``/``) to one of this plugin's public pages
        (``p_<plugin>.<view>``, a view marked ``@public``), with a Chinese ``label`` and a
        one-line ``description``. Shown only while the plugin is on."""
        if not endpoint.startswith(f"p_{self.plugin}.") or not label or len(label) > 20 or len(description) > 60:
            raise ValueError(f"public link {endpoint!r}: 'p_{self.plugin}.<view>', a label of at most 20 "
                             "characters and a description of at most 60")
        self.app.extensions.setdefault("fengqiao.public_links", []).append(
            PublicLink(self.plugin, endpoint, label, description))

    # -- permissions and jobs -----------------------------------------------------------
    def add_permission(self, name: str, label: str, roles: tuple[str, ...] = ("admin",), *,
                       admin: bool = True) -> str:
        """Declare ``<plugin>.<name>`` and grant it to ``roles``. Admins have it too unless
        ``admin=False``: a permission to residents' sensitive data, like the core's
        ``cases.reveal``, is not the system administrator's."""
        full = f"{self.plugin}.{name}"
        registry = self.app.extensions["fengqiao.permissions"]
        registry.labels[full] = label
        for role in {*roles, *(("admin",) if admin else ())}:
            registry.extra.setdefault(role, set()).add(full)
        return full

    def register_job(self, name: str, func: Callable[..., Any], every: int | None = None) -> str:
        """Make ``func`` runnable as the job ``<plugin>.<name>`` (pass IDs, stay idempotent).

        With ``every`` (seconds) it also runs periodically, with no arguments, once per slot
        across all workers, while the plugin is on."""
        full = f"{self.plugin}.{name}"
        self.app.extensions["fengqiao.jobs"][full] = func
        if every is not None:
            if not isinstance(every, int) or every < 10:
                raise ValueError("every: at least 10 seconds")
            from fengqiao.jobs.registry import Periodic

            self.app.extensions.setdefault("fengqiao.periodic", {})[full] = (self.plugin, Periodic(full, every))
        return full

    def register_channel(self, channel) -> None:
        """Deliver notifications through ``channel`` (a ``fengqiao.sdk.channels.Channel``)
        while this plugin is on; its name must be unique across plugins."""
        from fengqiao.notifications.channels import register

        register(self.app, self.plugin, channel)

    def provide_addresses(self, provider) -> None:
        """Be the address book (``fengqiao.sdk.addresses``) while this plugin is on:
        ``provider`` has ``search(text, limit)`` and ``resolve(text)`` returning ``AddressHit``.
        One plugin at most provides addresses."""
        from fengqiao.addresses import register

        register(self.app, self.plugin, provider)

    def add_notification_kind(self, kind: str, label: str) -> None:
        """Give one of this plugin's ``channels.notify`` kinds a Chinese label: the inbox shows
        and filters it by that label and unit admins can switch it off on its own (a kind
        without one is 「事项动态」, switched with all others). ``kind`` starts with the plugin's
        name and a dot."""
        if not kind.startswith(f"{self.plugin}.") or len(kind) > 32 or not label:
            raise ValueError(f"notification kind {kind!r}: '<plugin>.<name>', at most 32 characters, with a label")
        self.app.extensions.setdefault("fengqiao.notification_kinds", {})[kind] = (self.plugin, label)

    def add_demo_data(self, load: Callable[[], Any]) -> None:
        """``load()`` adds the plugin's sample rows to the demo (``fengqiao demo`` and
        ``fengqiao demo-data load``) after the core's; it must be idempotent (skip what exists)."""
        self.app.extensions.setdefault("fengqiao.demo_loaders", []).append((self.plugin, load))

    # -- settings -------------------------------------------------------------------------
    def settings(self) -> dict:
        """This plugin's settings as saved by an admin, over the schema's defaults."""
        from fengqiao.plugins.state import settings_of

        plugin = self.app.extensions["fengqiao.plugins"][self.plugin]
        defaults = {
            key: prop["default"]
            for key, prop in (plugin.settings_schema or {}).get("properties", {}).items()
            if "default" in prop
        }
        return {**defaults, **settings_of(self.plugin)}
