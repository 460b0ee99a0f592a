"""Signing outbound webhooks, and the reference check a receiver runs (docs/notifications.md).

Standard library only, on purpose: an integrator may copy :func:`verify` as it is.

Each delivery carries ``X-Fengqiao-Delivery`` (the event's id, the same on every retry),
``X-Fengqiao-Event`` (its type), ``X-Fengqiao-Timestamp`` (unix seconds when this attempt was
sent) and ``X-Fengqiao-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw
body>"`` under the endpoint's secret. Signing the timestamp with the body lets a receiver
refuse an old delivery replayed by someone who captured it; the event id lets it drop one
it already handled (a retry after a lost answer is the same event, and must be dropped too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, MutableSet

EVENT_ID_HEADER = "X-Fengqiao-Delivery"  # the public contract's name (docs/notifications.md): the event's id
EVENT_HEADER = "X-Fengqiao-Event"
TIMESTAMP_HEADER = "X-Fengqiao-Timestamp"
SIGNATURE_HEADER = "X-Fengqiao-Signature"
SCHEME = "sha256="
TOLERANCE = 300  # seconds a delivery stays acceptable after it was signed
STAMP = re.compile(r"[0-9]{1,12}")  # unix seconds, ASCII digits only


class VerificationError(ValueError):
    """The delivery must be refused; the message says why (for the receiver's log)."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(secret: str, *, event_id: str, event: str, body: bytes, timestamp: int | None = None) -> dict:
    """The headers of one attempt (signed now unless ``timestamp`` is given)."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return {EVENT_ID_HEADER: event_id, EVENT_HEADER: event, TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature(secret, stamp, body)}


def _header(headers: Mapping, name: str) -> str:
    """A header by name whatever its case (a dict, ``http.client.HTTPMessage``, Werkzeug's)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), None)
    return (value or "").strip()


def verify(secret: str, headers: Mapping, body: bytes, now: float | None = None, tolerance: int = TOLERANCE,
           seen: MutableSet[str] | None = None) -> str:
    """Check one delivery as received; return its event id, or raise :class:`VerificationError`.

    ``body`` is the raw request body (before any JSON parsing). ``seen`` is the receiver's
    store of event ids already handled (a set, or anything with ``in`` and ``add``): an id
    found there is refused, a verified one is added. The id header is checked against the
signed body's ``id``, so it cannot be changed to slip past ``seen``. Keep ids at least ``tolerance`` seconds:
    older deliveries fail the timestamp check anyway.
    """
    stamp_text, given = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
    event_id = _header(headers, EVENT_ID_HEADER)
    if not STAMP.fullmatch(stamp_text):
        raise VerificationError("missing or malformed timestamp")
    if not given.startswith(SCHEME):
        raise VerificationError("missing or malformed signature")
    expected = signature(secret, stamp_text, body)
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise VerificationError("signature mismatch")
    now = time.time() if now is None else now
    if abs(now - int(stamp_text)) > tolerance:
        raise VerificationError("timestamp outside the replay window")
    try:  # the header is not signed; the body's id is, and they must agree
        signed_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        raise VerificationError("body is not a JSON object") from None
    if not event_id or event_id != signed_id:
        raise VerificationError("missing event id, or not the one in the signed body")
    if seen is not None:
        if event_id in seen:
            raise VerificationError("event already received")
        seen.add(event_id)
    return event_id
