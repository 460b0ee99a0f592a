"""Quarterly 公示 with an objection window, the annual star rating, the honour board and the
Excel ledger. Public views show masked names, branch, stars and totals only."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.channels import notify
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.files import workbook_bytes
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import validate
from fengqiao.sdk.workdays import LOCAL_TZ, add_working_days
from sqlalchemy.exc import IntegrityError

from fengqiao_vanguard.members import review_scope
from fengqiao_vanguard.models import MEMBER_TYPES, Member, Notice, Objection, Rating
from fengqiao_vanguard.scoring import member_score

NOTICE_KIND = "vanguard.notice_opened"

NOTICE_SCHEMA = {
    "type": "object",
    "properties": {
        "org": {"type": "string", "minLength": 1, "maxLength": 40},
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
    },
    "required": ["org", "year", "quarter"],
    "additionalProperties": False,
}
OBJECTION_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 500},
        "contact": {"type": ["string", "null"], "maxLength": 50},
    },
    "required": ["text"],
    "additionalProperties": False,
}
RATE_SCHEMA = {
    "type": "object",
    "properties": {"org": NOTICE_SCHEMA["properties"]["org"], "year": NOTICE_SCHEMA["properties"]["year"]},
    "required": ["org", "year"],
    "additionalProperties": False,
}


def _unit_in_scope(code: str):
    unit = org_unit(code)
    if unit is None:
        raise ValidationFailed([("/org", "单位不存在", "unknown_org")])
    if not review_scope().contains(unit.path):
        raise APIError(403, [("/org", "无权操作该单位", "forbidden")])
    return unit


def all_members_in(path: str) -> list[Member]:
    return list(db.scalars(sa.select(Member).where(Member.org_path.startswith(path)).order_by(Member.id)))


def _branch_names(members: list[Member]) -> dict[str, str]:
    names = {}
    for code in {m.org_code for m in members}:
        unit = org_unit(code)
        names[code] = unit.name if unit else code
    return names


def publish_notice(data: dict, actor) -> Notice:
    """Snapshot the scores up to the quarter's end and open the objection window
    (``objection_days`` working days)."""
    validate(NOTICE_SCHEMA, data)
    unit = _unit_in_scope(data["org"])
    year, quarter = data["year"], data["quarter"]
    members = all_members_in(unit.path)
    branches = _branch_names(members)
    rows = []
    for member in members:
        score = member_score(member, year, up_to_period=f"{year}-{quarter * 3:02d}")
        rows.append({"member": member.id, "name": mask_name(member.name), "branch": branches[member.org_code],
                     "score": score.score, "stars": score.stars, "vetoed": score.vetoed})
    days = int(plugin_settings("vanguard")["objection_days"])
    notice = Notice(org_code=unit.code, org_path=unit.path, year=year, quarter=quarter, rows=rows,
                    published_by=actor.username, objection_ends=add_working_days(utcnow(), days, unit.code))
    db.add(notice)
    try:
        db.flush()  # the notice's id for the message (a second 公示 of the quarter fails here)
        _tell_members(notice, unit, members, actor)
        db.commit()
    except IntegrityError as err:
        db.rollback()
        raise APIError(409, [("/quarter", f"{unit.name} {year} 年第 {quarter} 季度已公示", "duplicate")]) from err
    return notice


def _tell_members(notice: Notice, unit, members: list[Member], actor) -> None:
    """The members linked to an account hear of the 公示 in their inbox (queued in the
    publishing transaction: nothing is sent unless it commits; once per notice)."""
    usernames = sorted({m.username for m in members if m.username and m.username != actor.username})
    if usernames:
        notify(f"vanguard:notice:{notice.id}", usernames, kind=NOTICE_KIND,
               title=f"先锋指数公示：{unit.name} {notice.year} 年第 {notice.quarter} 季度",
               text=f"{unit.name} {notice.year} 年第 {notice.quarter} 季度党员先锋指数已公示，"
                    f"异议受理至 {notice.objection_ends.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}",
               link=f"/p/vanguard/notices/{notice.id}", org=unit.code)


def notice_open(notice: Notice) -> bool:
    return utcnow() < notice.objection_ends


def raise_objection(notice: Notice, data: dict) -> Objection:
    validate(OBJECTION_SCHEMA, data)
    if not notice_open(notice):
        raise APIError(409, [("", "公示期已结束，不再受理异议", "closed")])
    text = data["text"].strip()
    if not text:
        raise ValidationFailed([("/text", "请填写异议内容", "required")])
    objection = Objection(notice_id=notice.id, text=text, contact=(data.get("contact") or "").strip() or None)
    db.add(objection)
    db.commit()
    return objection


def resolve_objection(objection_id: int, resolution: str, actor) -> Objection:
    """Record the branch's answer to an objection (once; the reviewer must cover the notice's unit)."""
    objection = db.get(Objection, objection_id)
    notice = db.get(Notice, objection.notice_id) if objection else None
    if notice is None or not review_scope().contains(notice.org_path):
        raise APIError(404)
    text = (resolution or "").strip()
    if not text:
        raise ValidationFailed([("/resolution", "请填写处理结果", "required")])
    if len(text) > 500:
        raise ValidationFailed([("/resolution", "最多填写 500 个字符", "maxLength")])
    done = db.execute(sa.update(Objection).where(Objection.id == objection_id, Objection.status == "open")
                      .values(status="resolved", resolved_by=actor.username, resolution=text)).rowcount
    if not done:
        db.rollback()
        raise APIError(409, [("", "该异议已处理", "resolved")])
    db.commit()
    db.refresh(objection)
    return objection


def objections_of(notice_id: int) -> list[Objection]:
    return list(db.scalars(sa.select(Objection).where(Objection.notice_id == notice_id).order_by(Objection.id)))


def notices_in(scope=None, *, limit: int = 50, after: int | None = None) -> list[Notice]:
    stmt = sa.select(Notice).order_by(Notice.id.desc()).limit(limit)
    if scope is not None:
        stmt = stmt.where(scope.clause(Notice.org_path))
    if after:
        stmt = stmt.where(Notice.id < after)
    return list(db.scalars(stmt))


def rate_year(data: dict, actor) -> int:
    """Fix the annual rating of every member under the unit from their final score (re-rating
    replaces it); returns how many were rated."""
    validate(RATE_SCHEMA, data)
    unit = _unit_in_scope(data["org"])
    year = data["year"]
    count = 0
    for member in all_members_in(unit.path):
        score = member_score(member, year)
        rating = db.scalar(sa.select(Rating).where(Rating.member_id == member.id, Rating.year == year))
        if rating is None:
            rating = Rating(member_id=member.id, year=year)
            db.add(rating)
        rating.score, rating.stars, rating.vetoed = score.score, score.stars, score.vetoed
        rating.rated_by, rating.rated_at = actor.username, utcnow()
        count += 1
    db.commit()
    return count


def honour_board(org_code: str, year: int, limit: int = 200) -> list[dict]:
    """Starred members under a unit for a year: masked name, branch, stars, total only."""
    unit = org_unit(org_code)
    if unit is None:
        return []
    found = db.execute(
        sa.select(Member, Rating).join(Rating, Rating.member_id == Member.id)
        .where(Rating.year == year, Rating.stars > 0, Member.org_path.startswith(unit.path))
        .order_by(Rating.stars.desc(), Rating.score.desc(), Member.id).limit(limit)).all()
    branches = _branch_names([m for m, _ in found])
    return [{"name": mask_name(m.name), "branch": branches[m.org_code], "stars": r.stars, "score": r.score}
            for m, r in found]


def ledger_xlsx(org_code: str, year: int) -> bytes:
    """The branch's year ledger (台账): one row per member, names masked."""
    unit = _unit_in_scope(org_code)
    members = all_members_in(unit.path)
    branches = _branch_names(members)
    rows = []
    for member in members:
        s = member_score(member, year)
        rows.append([mask_name(member.name), branches[member.org_code], MEMBER_TYPES[member.member_type],
                     s.basic, s.bonus, s.deduction, s.score, s.stars, "是" if s.vetoed else "否",
                     "；".join(s.notes)])
    headers = ["姓名", "支部", "类型", "基本分", "加分", "扣分", "总分", "星级", "一票否决", "说明"]
    return workbook_bytes(f"{unit.name}{year}年党员先锋指数", headers, rows)
