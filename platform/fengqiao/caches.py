"""Per-process caches of rows that rarely change, kept exact by stamps the database keeps.

The busiest requests need the same few rows every time: the signed-in user and their API
token (cache ``accounts``), the published form (``forms``), the plugin switches
(``plugins``), the working-day calendar (``calendar``) and whether any webhook endpoint is
active (``webhooks``: every case event asks). Each cache has a row in
``cache_versions`` whose stamp a trigger replaces, in the same transaction, on every change
of the tables it is built from (:data:`SOURCES`, migration 0015), whoever makes it: a view, a
CLI command, a worker, an operator in ``psql``.

A request reads every stamp once, at its first cached lookup (one small statement), and uses
an entry only while its cache's stamp is still the one the entry was stored under. So a change
committed in any process (a token revoked, a plugin switched off, a calendar day added, a form
republished) holds from the next request on, everywhere; nothing expires by time. A request
that writes one of those tables itself reads the stamps again at its next lookup and so sees
its own change. Stamps are random and never reused: an entry built from a change that was
then rolled back is stored under a stamp no one will read again.

Outside a request (commands, jobs) every lookup reads the stamps: correct, and as cheap as
the queries the caches save. A database without the stamp rows (a test database just
truncated) is simply not cached until the next change writes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy import event, orm

from fengqiao.models import CacheVersion

T = TypeVar("T")

ACCOUNTS, FORMS, PLUGINS, CALENDAR, WEBHOOKS = "accounts", "forms", "plugins", "calendar", "webhooks"

SOURCES: Mapping[str, str] = {
    "users": ACCOUNTS, "memberships": ACCOUNTS, "org_units": ACCOUNTS, "api_tokens": ACCOUNTS,
    "forms": FORMS, "form_versions": FORMS,
    "plugin_states": PLUGINS,
    "calendar_days": CALENDAR, "calendar_years": CALENDAR,
    "webhook_endpoints": WEBHOOKS,  # migration 0020
}
"""Table → the cache its changes invalidate (each has the triggers of migration 0015)."""

MAX_ENTRIES = 10_000  # per cache; beyond it the cache starts again empty (tokens are many)
_STAMPS = "fengqiao_cache_stamps"
_VERSIONS = CacheVersion.__table__
_READ = sa.select(_VERSIONS.c.name, _VERSIONS.c.version)  # Core: no ORM loading to set up


class _Generation:
    """The entries of one cache stored under one stamp."""

    __slots__ = ("stamp", "entries")

    def __init__(self, stamp: int) -> None:
        self.stamp = stamp
        self.entries: dict[Hashable, object] = {}


class Caches:
    """One app's caches (``app.extensions["fengqiao.caches"]``): per name, one generation."""

    def __init__(self) -> None:
        self._generations: dict[str, _Generation] = {}
        self._lock = threading.Lock()

    def generation(self, name: str, stamp: int) -> _Generation:
        found = self._generations.get(name)
        if found is not None and found.stamp == stamp and len(found.entries) < MAX_ENTRIES:
            return found
        with self._lock:
            found = self._generations[name] = _Generation(stamp)
        return found

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._generations.clear()
            else:
                self._generations.pop(name, None)


def init_caches(app) -> None:
    app.extensions["fengqiao.caches"] = Caches()
    event.listen(app.extensions["fengqiao.db"].session_factory, "after_flush", _after_flush)
    event.listen(app.extensions["fengqiao.db"].session_factory, "do_orm_execute", _before_write)


def stamps(session: orm.Session) -> Mapping[str, int]:
    """Every cache's current stamp; once per request (again after it wrote a cached table)."""
    if not has_request_context():
        return dict(session.execute(_READ).all())
    found = g.get(_STAMPS)
    if found is None:
        found = dict(session.execute(_READ).all())
        setattr(g, _STAMPS, found)
    return found


def cached(session: orm.Session, name: str, key: Hashable, load: Callable[[], T | None]) -> T | None:
    """``load()``'s value for ``key`` in cache ``name``, reused while the stamp stays the same.

    ``None`` is never stored (an unknown token may be issued a moment later)."""
    stamp = stamps(session).get(name)
    if stamp is None:
        return load()
    generation = current_app.extensions["fengqiao.caches"].generation(name, stamp)
    value = generation.entries.get(key)
    if value is None:
        value = load()
        if value is not None:
            generation.entries[key] = value
    return value  # type: ignore[return-value]


def store(session: orm.Session, name: str, key: Hashable, value: object) -> None:
    """Put ``value`` in cache ``name`` under the stamp this request reads (when it has one)."""
    stamp = stamps(session).get(name)
    if stamp is not None:
        current_app.extensions["fengqiao.caches"].generation(name, stamp).entries[key] = value


def forget_stamps() -> None:
    """Make this request read the stamps again at its next lookup (it changed cached rows)."""
    if has_request_context():
        g.pop(_STAMPS, None)


def _after_flush(session: orm.Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in SOURCES:
            forget_stamps()
            return


def _before_write(state: orm.ORMExecuteState) -> None:
    """Core ``insert``/``update``/``delete`` through the session on a cached table."""
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in SOURCES:
        forget_stamps()
