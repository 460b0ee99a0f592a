"""Which loaded plugins the admin has switched on (stored in the database).

Disabling takes effect at once in every process: each request reads the switches once
(one small query) and hides a disabled plugin's routes, menu items and forms, and its
signal receivers do not run. Its data stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, has_request_context

from fengqiao.db import db
from fengqiao.models import PluginState


def _switches() -> dict[str, bool]:
    rows = db.execute(sa.select(PluginState.name, PluginState.enabled)).all()
    return dict(rows)


def disabled_names() -> set[str]:
    """Loaded plugins switched off by an admin (cached for the current request)."""
    if has_request_context() and "fengqiao_disabled_plugins" in g:
        return g.fengqiao_disabled_plugins
    loaded = set(current_app.extensions.get("fengqiao.plugins", {}))
    disabled = {name for name, on in _switches().items() if not on and name in loaded}
    if has_request_context():
        g.fengqiao_disabled_plugins = disabled
    return disabled


def is_active(name: str) -> bool:
    """Loaded in this process and not switched off."""
    return name in current_app.extensions.get("fengqiao.plugins", {}) and name not in disabled_names()


def set_enabled(name: str, enabled: bool, actor: str | None = None) -> None:
    row = db.get(PluginState, name)
    if row is None:
        row = PluginState(name=name, settings={})
        db.add(row)
    row.enabled, row.updated_by = enabled, actor
    if has_request_context():
        g.pop("fengqiao_disabled_plugins", None)


def settings_of(name: str) -> dict:
    row = db.get(PluginState, name)
    return dict(row.settings or {}) if row else {}


def save_settings(name: str, values: dict, actor: str | None = None) -> None:
    row = db.get(PluginState, name)
    if row is None:
        row = PluginState(name=name, enabled=True)
        db.add(row)
    row.settings, row.updated_by = values, actor
