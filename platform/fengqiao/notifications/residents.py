"""Residents reached by SMS: only those who left a mobile and agreed to be contacted."""

from __future__ import annotations

from fengqiao.notifications.protocol import Recipient


def resident_recipient(case_id: int) -> Recipient | None:
    """The resident of case ``case_id`` as an SMS recipient, or None (no mobile, no consent)."""
    return None  # filled in with the forms' contact declaration
