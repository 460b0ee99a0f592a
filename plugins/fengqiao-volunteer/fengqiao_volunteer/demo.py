"""Demo data for ``fengqiao demo`` (through the core's demo hook) or ``fengqiao volunteer
seed-demo``: a 双报到 unit, three volunteers of 揽月社区, a past activity with confirmed hours
and an upcoming one open for sign-up. Idempotent: does nothing once volunteers exist."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.workdays import LOCAL_TZ, today_local

from fengqiao_volunteer import activities, hours, registry
from fengqiao_volunteer.models import Volunteer

COMMUNITY = "339901001001"  # 揽月社区
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card(first17: str) -> str:
    """Append the GB 11643 check character (demo and test numbers only)."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def load() -> None:
    if org_unit(COMMUNITY) is None or db.scalar(sa.select(sa.func.count()).select_from(Volunteer)):
        return
    unit = registry.register_unit({"name": "云澜县税务局", "org": COMMUNITY, "contact_name": "周明"},
                                  scope=None, actor=None)
    people = [
        registry.register_volunteer({"name": "陈晓燕", "id_card": id_card("33990119850312002"), "mobile": "13805710001",
                                     "org": COMMUNITY, "skills": "医疗护理"}, scope=None, actor=None),
        registry.register_volunteer({"name": "刘建国", "id_card": id_card("33990119790921003"), "mobile": "13805710002",
                                     "org": COMMUNITY, "party_member": True, "double_report": True,
                                     "report_unit": unit.id}, scope=None, actor=None),
        registry.register_volunteer({"name": "王小明", "id_card": id_card("33990120120501004"),
                                     "org": COMMUNITY, "guardian_consent": True, "guardian_name": "王强"},
                                    scope=None, actor=None),
    ]
    past = today_local() - timedelta(days=3)
    cleanup = activities.create_activity({
        "title": "揽月花园环境清洁日", "org": COMMUNITY, "place": "揽月花园中心广场", "quota": 10,
        "starts_at": datetime.combine(past, time(9), LOCAL_TZ).isoformat(),
        "ends_at": datetime.combine(past, time(12), LOCAL_TZ).isoformat()}, scope=None, actor="shenli")
    for person in people[:2]:
        hours.record_hours(cleanup, person.id, 3, actor="shenli")
    soon = today_local() + timedelta(days=5)
    activities.create_activity({
        "title": "重阳节敬老助餐", "org": COMMUNITY, "place": "揽月社区老年食堂", "quota": 6, "insurance": True,
        "starts_at": datetime.combine(soon, time(10), LOCAL_TZ).isoformat(),
        "ends_at": datetime.combine(soon, time(13), LOCAL_TZ).isoformat()}, scope=None, actor="shenli")
