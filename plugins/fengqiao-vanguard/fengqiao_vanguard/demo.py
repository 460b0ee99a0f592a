"""A few demo members and events in 揽月社区 (run with the demo, or ``fengqiao vanguard seed-demo``)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.workdays import today_local

from fengqiao_vanguard.indicators import find_indicator, set_for_year
from fengqiao_vanguard.models import EventHistory, Member, ScoreEvent

COMMUNITY = "339901001001"  # 揽月社区
MEMBERS = [
    ("周建国", "retired", ["patrol", "care"], [("study", 18, "approved"), ("org_life", 20, "approved"),
                                               ("dues", 10, "approved"), ("posts", 18, "approved"),
                                               ("service", 19, "approved"), ("households", 9, "pending")]),
    ("吴晓燕", "employed", ["theory"], [("study", 15, "approved"), ("org_life", 16, "approved"),
                                      ("service", 12, "pending")]),
    ("郑志强", "mobile", ["civility"], [("org_life", 10, "approved"), ("absence", 5, "approved")]),
]


def load_demo() -> None:
    """Idempotent: does nothing when 揽月社区 already has members."""
    unit = org_unit(COMMUNITY)
    if unit is None or db.scalar(sa.select(Member.id).where(Member.org_code == COMMUNITY).limit(1)):
        return
    year = today_local().year
    period = today_local().strftime("%Y-%m")
    item_set = set_for_year(COMMUNITY, year)
    for name, member_type, posts, events in MEMBERS:
        member = Member(name=name, org_code=unit.code, org_path=unit.path, member_type=member_type,
                        posts=posts, commitments="亮身份、亮承诺、亮服务", created_by="shenli")
        db.add(member)
        db.flush()
        for code, points, status in events:
            indicator = find_indicator(item_set, code)
            event = ScoreEvent(member_id=member.id, indicator_id=indicator.id, points=points,
                               reason=f"{indicator.name}（示例数据）", period=period, year=year, status=status,
                               source="branch", created_by="luojia",
                               reviewed_by="shenli" if status == "approved" else None)
            db.add(event)
            db.flush()
            db.add(EventHistory(event_id=event.id, actor="luojia", action="proposed", comment="示例数据"))
            if status == "approved":
                db.add(EventHistory(event_id=event.id, actor="shenli", action="approved"))
    db.commit()
