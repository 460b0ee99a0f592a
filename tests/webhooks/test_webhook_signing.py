"""The signature and the receiver's reference check (``fengqiao.webhooks.signing.verify``):
constant-time HMAC over ``"<timestamp>.<body>"``, a replay window, a seen-id set."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from fengqiao.webhooks.signing import VerificationError, signed_headers, verify

SECRET = "s3cr3t-for-tests"
BODY = json.dumps({"id": "case.closed:2026-1:7", "type": "case.closed", "data": {}}).encode()
NOW = 1_800_000_000


def _headers(body=BODY, secret=SECRET, stamp=NOW):
    return signed_headers(secret, event_id="case.closed:2026-1:7", event="case.closed", body=body, timestamp=stamp)


def test_the_signature_is_the_documented_hmac_and_verifies():
    headers = _headers()
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers["X-Fengqiao-Signature"] == f"sha256={expected}"
    assert headers["X-Fengqiao-Timestamp"] == str(NOW) and headers["X-Fengqiao-Event"] == "case.closed"
    lowered = {k.lower(): v for k, v in headers.items()}  # header names arrive in any case
    assert verify(SECRET, lowered, BODY, now=NOW + 10) == "case.closed:2026-1:7"


@pytest.mark.parametrize("change", ["body", "secret", "stamp", "signature", "missing"])
def test_anything_changed_is_refused(change):
    headers, body, secret = _headers(), BODY, SECRET
    if change == "body":
        body = BODY.replace(b"case.closed", b"case.created", 1)
    elif change == "secret":
        secret = "another"
    elif change == "stamp":
        headers["X-Fengqiao-Timestamp"] = str(NOW + 1)  # the stamp is signed with the body
    elif change == "signature":
        headers["X-Fengqiao-Signature"] = "sha256=" + "0" * 64
    else:
        del headers["X-Fengqiao-Signature"]
    with pytest.raises(VerificationError):
        verify(secret, headers, body, now=NOW)


def test_outside_the_replay_window_is_refused_both_ways():
    headers = _headers()
    verify(SECRET, headers, BODY, now=NOW + 300)
    with pytest.raises(VerificationError, match="window"):
        verify(SECRET, headers, BODY, now=NOW + 301)
    with pytest.raises(VerificationError, match="window"):
        verify(SECRET, headers, BODY, now=NOW - 301)
    verify(SECRET, headers, BODY, now=NOW + 50, tolerance=60)
    with pytest.raises(VerificationError):
        verify(SECRET, headers, BODY, now=NOW + 61, tolerance=60)


def test_an_event_seen_before_is_refused_and_its_id_cannot_be_swapped():
    seen: set[str] = set()
    assert verify(SECRET, _headers(), BODY, now=NOW, seen=seen) == "case.closed:2026-1:7"
    assert seen == {"case.closed:2026-1:7"}
    with pytest.raises(VerificationError, match="already"):
        verify(SECRET, _headers(stamp=NOW + 5), BODY, now=NOW + 5, seen=seen)  # re-signed retry: same event
    swapped = {**_headers(), "X-Fengqiao-Delivery": "something-new"}  # the header is not signed
    with pytest.raises(VerificationError, match="event id"):
        verify(SECRET, swapped, BODY, now=NOW, seen=seen)


def test_malformed_timestamps_are_refused_before_any_arithmetic():
    for stamp in ("", "12a", "-5", "１２３", "9" * 40):
        headers = {**_headers(), "X-Fengqiao-Timestamp": stamp}
        with pytest.raises(VerificationError):
            verify(SECRET, headers, BODY, now=NOW)
