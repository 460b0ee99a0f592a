"""Constants and ID numbers shared by the volunteer plugin's tests (a uniquely named module:
``conftest`` is a different module when the whole repository's tests run together)."""

from __future__ import annotations

from datetime import date, timedelta

from fengqiao_volunteer.demo import id_card

COMMUNITY = "339901001001"  # 揽月社区 (shenli's unit)
OTHER_COMMUNITY = "339901001002"  # 桥东社区


def adult_id(seq: int) -> str:
    return id_card(f"33990119850101{seq:03d}")


def minor_id(seq: int = 1, years: int = 15) -> str:
    born = date.today() - timedelta(days=365 * years)
    return id_card(f"339901{born:%Y%m%d}{seq:03d}")
