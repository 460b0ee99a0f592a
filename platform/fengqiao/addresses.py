"""Standard addresses, looked up through whichever plugin provides them (API 1.11).

The core keeps no address book of its own: a plugin (the grid plugin's 标准地址) registers one
provider with ``ctx.provide_addresses(provider)``, and forms, the public search and other
plugins ask through ``search_addresses`` / ``resolve_address``. With no provider, or its plugin
switched off, the answers are empty and everything behaves as before (a plain text field).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from flask import current_app

log = logging.getLogger(__name__)

MAX_HITS = 10
"""At most this many hits per search, whatever the caller asks."""
MAX_TEXT = 200
"""Longer text is no address (the longest standard label is 200 characters)."""
_KEY = "fengqiao.address_provider"


@dataclass(frozen=True)
class AddressHit:
    """One standard address: its stable ``code``, the ``label`` people read
    (「幸福小区3幢1单元602室」) and the unit that answers for it (its grid: ``org_code``,
    ``org_name``). Addresses only: never who lives there."""

    code: str
    label: str
    org_code: str
    org_name: str


@runtime_checkable
class AddressProvider(Protocol):
    """What a plugin registers. Both methods only read; they may raise (the caller then gets
    nothing, and the error is logged)."""

    def search(self, text: str, limit: int) -> list[AddressHit]:
        """Addresses whose label matches ``text`` (what a resident types), best first."""

    def resolve(self, text: str) -> AddressHit | None:
        """The one address whose code or full label is exactly ``text``; None when none or
        several match."""


def register(app, plugin: str | None, provider: AddressProvider) -> None:
    """Make ``provider`` the address book of ``app`` (one at most: two would disagree)."""
    if not isinstance(provider, AddressProvider):
        raise ValueError(f"address provider {provider!r}: needs search(text, limit) and resolve(text)")
    if _KEY in app.extensions:
        raise ValueError(f"addresses are already provided by plugin {app.extensions[_KEY][0]!r}")
    app.extensions[_KEY] = (plugin, provider)


def _provider() -> AddressProvider | None:
    from fengqiao.plugins.state import is_active

    entry = current_app.extensions.get(_KEY)
    if entry is None or (entry[0] is not None and not is_active(entry[0])):
        return None
    return entry[1]


def _clean(text) -> str:
    return " ".join(text.split()) if isinstance(text, str) and len(text) <= MAX_TEXT else ""


def _guarded(call, fallback):
    """Run a provider call in a savepoint: a failing plugin query must neither reach the
    caller as a 500 nor leave the request's transaction aborted (PostgreSQL)."""
    from fengqiao.db import db

    try:
        with db.begin_nested():
            return call()
    except Exception:
        log.exception("address provider failed")
        return fallback


def providing() -> bool:
    """Whether an address provider is on (the form's picker then searches)."""
    return _provider() is not None


def search_addresses(text: str, limit: int = MAX_HITS) -> list[AddressHit]:
    """Standard addresses matching ``text`` (words separated by spaces all appear in the
    label), at most ``limit`` (≤ 10); [] without a provider."""
    provider, text = _provider(), _clean(text)
    if provider is None or not text:
        return []
    limit = max(1, min(int(limit), MAX_HITS))
    hits = _guarded(lambda: provider.search(text, limit), [])
    return [h for h in hits if isinstance(h, AddressHit)][:limit]


def resolve_address(text: str) -> AddressHit | None:
    """The standard address whose code or full label is ``text`` (only when exactly one
    matches); None without a provider."""
    provider, text = _provider(), _clean(text)
    if provider is None or not text:
        return None
    hit = _guarded(lambda: provider.resolve(text), None)
    return hit if isinstance(hit, AddressHit) else None
