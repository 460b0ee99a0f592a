"""Standard addresses (API 1.11): look an address up, or provide the address book.

Any plugin may ask ``search_addresses(text)`` (what a resident typed → hits, best first) or
``resolve_address(text)`` (an exact code or full label → the one address, with the grid that
answers for it). One plugin provides them: ``ctx.provide_addresses(provider)`` in ``setup``,
with an object having ``search(text, limit)`` and ``resolve(text)`` that return ``AddressHit``
(``AddressProvider``). Without a provider, or with its plugin off, the answers are empty.
"""

from __future__ import annotations

from fengqiao.addresses import (
    MAX_HITS,
    AddressHit,
    AddressProvider,
    resolve_address,
    search_addresses,
)

__all__ = ["MAX_HITS", "AddressHit", "AddressProvider", "resolve_address", "search_addresses"]
