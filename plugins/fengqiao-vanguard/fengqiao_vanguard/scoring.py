"""A member's year score from approved events, and the star bands.

Kept free of database access in ``compute`` and ``stars_for`` so that the rules read (and
test) as plain arithmetic. Sums use ``Decimal`` so that 89.9 stays 89.9.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from fengqiao.sdk.models import db

from fengqiao_vanguard.indicators import set_for_year
from fengqiao_vanguard.models import Indicator, IndicatorSet, Member, ScoreEvent

HUNDRED = Decimal(100)


def _d(value) -> Decimal:
    return Decimal(str(value))


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def stars_for(score: float, bands: list) -> int:
    """Stars for a score: the number of band lower bounds it reaches (``[60,70,80,90,96]``:
    59.5 → 0, 60 → 1, 89.9 → 3, 95.5 → 4, 96 → 5)."""
    return sum(1 for bound in bands if _d(score) >= _d(bound))


@dataclass
class Score:
    score: float
    stars: int
    vetoed: bool
    basic: float = 0.0
    bonus: float = 0.0
    deduction: float = 0.0
    notes: list[str] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)


def compute(item_set: IndicatorSet, approved: Iterable[tuple[str, float]]) -> Score:
    """Score = Σ basic (each up to its weight) + min(Σ bonus, cap) − Σ deductions, clamped to
    0..100; any veto event means vetoed and no star. ``approved`` is ``(code, points)`` pairs."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    vetoes: set[str] = set()
    notes: list[str] = []
    by_code = {i.code: i for i in item_set.indicators}
    for code, points in approved:
        if code not in by_code:
            notes.append(f"指标「{code}」不在本年度适用的指标体系中，未计分")
            continue
        totals[code] += _d(points)
        if by_code[code].kind == "veto":
            vetoes.add(code)
    sums = {"basic": Decimal(0), "bonus": Decimal(0), "deduction": Decimal(0)}
    items = []
    for item in item_set.indicators:
        raw = totals.get(item.code, Decimal(0))
        counted = raw
        if item.kind in sums:
            cap = _d(item.max_points)
            counted = min(max(raw, Decimal(0)), cap)
            if raw > cap:
                notes.append(f"{'加分项' if item.kind == 'bonus' else '指标'}「{item.name}」申报 {_fmt(raw)} 分，"
                             f"超过上限 {_fmt(cap)} 分，按 {_fmt(cap)} 分计")
            sums[item.kind] += counted
        items.append({"code": item.code, "name": item.name, "kind": item.kind,
                      "max_points": item.max_points, "points": float(raw), "counted": float(counted),
                      "vetoed": item.code in vetoes})
    bonus_cap = _d(item_set.bonus_cap)
    bonus = sums["bonus"]
    if bonus > bonus_cap:
        notes.append(f"加分合计 {_fmt(bonus)} 分，超过加分上限 {_fmt(bonus_cap)} 分，按 {_fmt(bonus_cap)} 分计")
        bonus = bonus_cap
    total = min(max(sums["basic"] + bonus - sums["deduction"], Decimal(0)), HUNDRED)
    vetoed = bool(vetoes)
    for code in sorted(vetoes):
        notes.append(f"存在一票否决事项「{by_code[code].name}」，本年度不评星")
    stars = 0 if vetoed else stars_for(float(total), item_set.bands)
    return Score(score=float(total), stars=stars, vetoed=vetoed, basic=float(sums["basic"]),
                 bonus=float(bonus), deduction=float(sums["deduction"]), notes=notes, items=items)


def member_score(member: Member, year: int, *, up_to_period: str | None = None) -> Score:
    """The member's score for ``year`` from approved events (up to a ``YYYY-MM`` if given),
    against the indicator set in force for the member's unit that year."""
    item_set = set_for_year(member.org_code, year)
    stmt = (sa.select(Indicator.code, ScoreEvent.points)
            .join(Indicator, Indicator.id == ScoreEvent.indicator_id)
            .where(ScoreEvent.member_id == member.id, ScoreEvent.year == year,
                   ScoreEvent.status == "approved")
            .order_by(ScoreEvent.id))
    if up_to_period:
        stmt = stmt.where(ScoreEvent.period <= up_to_period)
    return compute(item_set, db.execute(stmt).all())


def score_json(score: Score, year: int) -> dict:
    return {"year": year, "score": score.score, "stars": score.stars, "vetoed": score.vetoed,
            "basic": score.basic, "bonus": score.bonus, "deduction": score.deduction,
            "notes": score.notes, "items": score.items}
