"""The plugin's rules as pure functions: settings, stars, hour steps, age from the ID number.

Kept free of the database so the thresholds and rounding can be read (and tested) at a glance.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from fengqiao.sdk.plugin import plugin_settings

NAME = "volunteer"
DEFAULT_THRESHOLDS = "100,300,600,1000,1500"
ADULT_AGE = 18

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "daily_max_hours": {"type": "number", "title": "每人每日工时上限（小时）", "default": 8,
                            "minimum": 0.5, "maximum": 24, "multipleOf": 0.5},
        "star_thresholds": {"type": "string", "title": "一至五星所需累计工时（逗号分隔）",
                            "default": DEFAULT_THRESHOLDS, "pattern": r"^\d+(,\d+){4}$"},
        "notice_days": {"type": "integer", "title": "星级公示天数", "default": 7,
                        "minimum": 0, "maximum": 60},
        "dispute_days": {"type": "integer", "title": "工时异议期（天）", "default": 7,
                         "minimum": 0, "maximum": 60},
        "issuer_suffix": {"type": "string", "title": "证明出具单位后缀", "default": "志愿服务站",
                          "minLength": 1, "maxLength": 20},
    },
    "additionalProperties": False,
}


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def valid_id(value) -> bool:
    """A row id a query can take (a larger number would make PostgreSQL fail, not answer 404)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def settings() -> dict:
    return plugin_settings(NAME)


def thresholds() -> list[int]:
    raw = settings().get("star_thresholds") or DEFAULT_THRESHOLDS
    return sorted(int(x) for x in raw.split(","))


def stars_for(total_hours: float | Decimal, levels: list[int] | None = None) -> int:
    """Stars earned by ``total_hours`` of confirmed service: 99.5 → 0, 100 → 1, 1500 → 5."""
    levels = levels if levels is not None else thresholds()
    return sum(1 for level in levels if Decimal(str(total_hours)) >= level)


def is_half_hour_step(hours: float | Decimal) -> bool:
    return (Decimal(str(hours)) * 2) % 1 == 0


def round_down_half(hours: float) -> float:
    """Attendance → hours: whole half hours only (a 1 h 50 min stay counts 1.5 h)."""
    return math.floor(max(hours, 0) * 2) / 2


def birth_date(id_card: str) -> date:
    return date(int(id_card[6:10]), int(id_card[10:12]), int(id_card[12:14]))


def age_on(id_card: str, day: date) -> int:
    born = birth_date(id_card)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def fmt_hours(value: float | Decimal | None) -> str:
    """``12`` or ``12.5`` (no trailing ``.0``)."""
    number = float(value or 0)
    return f"{number:g}" if number != int(number) else str(int(number))
