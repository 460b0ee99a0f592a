"""Which loaded plugins the admin has switched on (stored in the database).

Disabling takes effect at once in every process: the switches are kept in the ``plugins``
cache (:mod:`fengqiao.caches`), whose stamp changes with any switch, so the next request
anywhere hides a disabled plugin's routes, menu items and forms, and its signal receivers
do not run. Its data stays.
"""

from __future__ import annotations

import copy

import sqlalchemy as sa
from flask import current_app

from fengqiao import caches
from fengqiao.db import current_session, db
from fengqiao.models import PluginState


def disabled_names() -> frozenset[str]:
    """Loaded plugins switched off by an admin."""
    session = current_session()
    return caches.cached(session, caches.PLUGINS, "disabled", lambda: _switched_off(session))


def _switched_off(session) -> frozenset[str]:
    loaded = current_app.extensions.get("fengqiao.plugins", {})
    rows = session.execute(sa.select(PluginState.name).where(PluginState.enabled.is_(False)))
    return frozenset(name for name in rows.scalars() if name in loaded)


def is_active(name: str) -> bool:
    """Loaded in this process and not switched off."""
    return name in current_app.extensions.get("fengqiao.plugins", {}) and name not in disabled_names()


def set_enabled(name: str, enabled: bool, actor: str | None = None) -> None:
    row = db.get(PluginState, name)
    if row is None:
        row = PluginState(name=name, settings={})
        db.add(row)
    row.enabled, row.updated_by = enabled, actor
    db.flush()  # the rest of this request sees the new switch too


def settings_of(name: str) -> dict:
    """The settings an admin saved for plugin ``name`` (a copy: change it through
    :func:`save_settings`)."""
    session = current_session()
    saved = caches.cached(session, caches.PLUGINS, ("settings", name), lambda: _saved_settings(session, name))
    return copy.deepcopy(saved)


def _saved_settings(session, name: str) -> dict:
    row = session.get(PluginState, name)
    return dict(row.settings or {}) if row else {}


def save_settings(name: str, values: dict, actor: str | None = None) -> None:
    row = db.get(PluginState, name)
    if row is None:
        row = PluginState(name=name, enabled=True)
        db.add(row)
    row.settings, row.updated_by = values, actor
    db.flush()  # the rest of this request sees the new settings too
