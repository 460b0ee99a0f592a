"""Indicator sets: the seeded default, the version in force for a unit, drafts and publishing.

Sets are versioned per unit (``org_code``; "" is the default for every jurisdiction). A unit
inherits the nearest set up its ancestors, like the certificate lists do; a year is scored
against the version in force on its last day. Published versions never change.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import org_ancestors, org_unit
from fengqiao.sdk.web import validate
from fengqiao.sdk.workdays import today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_vanguard.models import KINDS, Indicator, IndicatorSet

DEFAULT_BANDS = [60, 70, 80, 90, 96]  # lower bounds of ★ … ★★★★★
DEFAULT_BONUS_CAP = 10
DEFAULT_INDICATORS = [
    ("study", "学习教育", "basic", 20),
    ("org_life", "组织生活（三会一课）", "basic", 20),
    ("dues", "按时交纳党费", "basic", 10),
    ("posts", "设岗定责履职（5+X）", "basic", 20),
    ("service", "服务群众", "basic", 20),
    ("households", "联系包户", "basic", 10),
    ("double_report", "双报到志愿服务", "bonus", 10),
    ("honours", "获得表彰", "bonus", 10),
    ("micro_wish", "认领微心愿", "bonus", 5),
    ("absence", "无故缺席组织生活", "deduction", 20),
    ("dues_late", "未按时交纳党费", "deduction", 10),
    ("complaint", "群众反映问题属实", "deduction", 20),
    ("discipline", "受到党纪政务处分", "veto", 0),
    ("crime", "违法犯罪", "veto", 0),
]
DEFAULT_EFFECTIVE = date(2000, 1, 1)


def ensure_default_set() -> None:
    """Seed the default set (version 1 for every jurisdiction) once; safe when two race."""
    if db.scalar(sa.select(IndicatorSet.id).where(IndicatorSet.org_code == "", IndicatorSet.version == 1)):
        return
    item_set = IndicatorSet(org_code="", name="党员先锋指数（默认）", version=1, status="published",
                            effective_from=DEFAULT_EFFECTIVE, bands=list(DEFAULT_BANDS),
                            bonus_cap=DEFAULT_BONUS_CAP, published_at=utcnow())
    item_set.indicators = [Indicator(code=c, name=n, kind=k, max_points=m, position=i)
                           for i, (c, n, k, m) in enumerate(DEFAULT_INDICATORS)]
    db.add(item_set)
    try:
        db.commit()
    except IntegrityError:  # another request seeded it first
        db.rollback()


def set_in_force(org_code: str | None, on: date) -> IndicatorSet:
    """The published set that applies to ``org_code`` on ``on``: the nearest unit up the tree
    that has one in force, else the default."""
    ensure_default_set()
    codes = [u.code for u in org_ancestors(org_code)] if org_code else []
    candidates = list(db.scalars(
        sa.select(IndicatorSet).where(IndicatorSet.status == "published",
                                      IndicatorSet.org_code.in_(["", *codes]),
                                      IndicatorSet.effective_from <= on)
        .order_by(IndicatorSet.effective_from.desc(), IndicatorSet.version.desc())
    ))
    depth = {code: i for i, code in enumerate(["", *codes])}
    return max(candidates, key=lambda s: depth[s.org_code])  # stable: the latest of the nearest


def set_for_year(org_code: str | None, year: int) -> IndicatorSet:
    return set_in_force(org_code, date(year, 12, 31))


def find_indicator(item_set: IndicatorSet, ref) -> Indicator | None:
    """An indicator of the set by id (int) or code (str)."""
    for item in item_set.indicators:
        if (isinstance(ref, int) and not isinstance(ref, bool) and item.id == ref) or (
                isinstance(ref, str) and item.code == ref):
            return item
    return None


# -- drafts -----------------------------------------------------------------------------------

INDICATOR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[a-z][a-z0-9_]*$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "kind": {"enum": list(KINDS)},
        "max_points": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "required": ["code", "name", "kind", "max_points"],
    "additionalProperties": False,
}
SET_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "bands": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 100},
                  "minItems": 5, "maxItems": 5},
        "bonus_cap": {"type": "number", "minimum": 0, "maximum": 100},
        "indicators": {"type": "array", "items": INDICATOR_SCHEMA, "minItems": 1, "maxItems": 60},
    },
    "additionalProperties": False,
}


def create_draft(org_code: str, actor: str | None) -> IndicatorSet:
    """A new draft for ``org_code`` ("" = everywhere), copied from the set now in force there."""
    if org_code and org_unit(org_code) is None:
        raise ValidationFailed([("/org", "单位不存在", "unknown_org")])
    source = set_in_force(org_code or None, today_local())
    write_lock()
    version = (db.scalar(sa.select(sa.func.max(IndicatorSet.version))
                         .where(IndicatorSet.org_code == org_code)) or 0) + 1
    draft = IndicatorSet(org_code=org_code, name=source.name if source.org_code == org_code else
                         f"{(org_unit(org_code).name if org_code else '')}党员先锋指数",
                         version=version, status="draft", bands=list(source.bands),
                         bonus_cap=source.bonus_cap, created_by=actor)
    draft.indicators = [Indicator(code=i.code, name=i.name, kind=i.kind, max_points=i.max_points,
                                  position=i.position) for i in source.indicators]
    db.add(draft)
    try:
        db.commit()
    except IntegrityError as err:
        db.rollback()
        raise APIError(409, [("", "已有人同时新建了草稿，请刷新后重试", "conflict")]) from err
    return draft


def _problems_of_content(bands: list, indicators: list[dict]) -> list[tuple[str, str, str]]:
    problems = []
    if any(high <= low for low, high in zip(bands, bands[1:], strict=False)):
        problems.append(("/bands", "星级分数线应从低到高依次递增", "bands"))
    codes = [i["code"] for i in indicators]
    for n, code in enumerate(codes):
        if codes.index(code) != n:
            problems.append((f"/indicators/{n}/code", f"指标代码 {code} 重复", "uniqueItems"))
    basic = sum(i["max_points"] for i in indicators if i["kind"] == "basic")
    if basic <= 0:
        problems.append(("/indicators", "至少需要一项分值大于 0 的基本指标", "basic"))
    elif basic > 100:
        problems.append(("/indicators", f"基本指标满分合计 {basic:g} 分，不能超过 100 分", "basic"))
    return problems


def update_draft(item_set: IndicatorSet, data: dict) -> IndicatorSet:
    """Replace a draft's name, bands, bonus cap and/or indicators (all validated together)."""
    if item_set.status != "draft":
        raise APIError(409, [("", "已发布的指标体系不能修改，请新建草稿", "published")])
    validate(SET_SCHEMA, data)
    bands = data.get("bands", item_set.bands)
    items = data.get("indicators", [i.to_json() for i in item_set.indicators])
    problems = _problems_of_content(bands, items)
    if problems:
        raise ValidationFailed(problems)
    item_set.name = data.get("name", item_set.name)
    item_set.bands = list(bands)
    item_set.bonus_cap = data.get("bonus_cap", item_set.bonus_cap)
    if "indicators" in data:
        current = {i.code: i for i in item_set.indicators}
        kept = []
        for position, row in enumerate(items):
            item = current.get(row["code"]) or Indicator(code=row["code"])
            item.name, item.kind, item.max_points, item.position = (
                row["name"], row["kind"], row["max_points"], position)
            kept.append(item)
        item_set.indicators = kept
    db.commit()
    return item_set


def publish(item_set: IndicatorSet, effective_from: date, actor: str | None) -> IndicatorSet:
    """Publish a draft: from ``effective_from`` it is the version in force for its unit."""
    if item_set.status != "draft":
        raise APIError(409, [("", "该版本已发布", "published")])
    problems = _problems_of_content(item_set.bands, [i.to_json() for i in item_set.indicators])
    if problems:
        raise ValidationFailed(problems)
    updated = db.execute(
        sa.update(IndicatorSet).where(IndicatorSet.id == item_set.id, IndicatorSet.status == "draft")
        .values(status="published", effective_from=effective_from, published_by=actor, published_at=utcnow())
    ).rowcount
    if not updated:
        db.rollback()
        raise APIError(409, [("", "该版本已发布", "published")])
    db.commit()
    db.refresh(item_set)
    return item_set


def set_to_json(item_set: IndicatorSet) -> dict:
    return {"id": item_set.id, "org": item_set.org_code or None, "name": item_set.name,
            "version": item_set.version, "status": item_set.status,
            "effective_from": item_set.effective_from.isoformat() if item_set.effective_from else None,
            "bands": item_set.bands, "bonus_cap": item_set.bonus_cap,
            "indicators": [i.to_json() for i in item_set.indicators]}
