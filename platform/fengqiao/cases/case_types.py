"""Case types known to the core until the case engine makes them declarative.

Each maps a ``case_type`` key to its Chinese name, the prefix of its case numbers and the
state a new case starts in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseType:
    key: str
    title: str
    prefix: str
    initial_state: str = "submitted"


GENERAL = CaseType("general", "通用事项", "TY")

_KNOWN = {
    t.key: t
    for t in [
        GENERAL,
        CaseType("grid_incident", "网格事件", "WG"),
        CaseType("livelihood_request", "民生诉求", "GD"),
        CaseType("dispute_mediation", "矛盾纠纷调解", "TJ"),
        CaseType("proxy_service", "便民代办", "DB"),
        CaseType("whistle", "吹哨报到", "CS"),
    ]
}

STATE_LABELS = {"submitted": "已提交"}


def case_type(key: str | None) -> CaseType:
    """The case type for ``key``; unknown keys (e.g. from plugins) get a neutral prefix."""
    if not key:
        return GENERAL
    return _KNOWN.get(key) or CaseType(key, key, "SX")


def register(case: CaseType) -> None:
    _KNOWN[case.key] = case
