"""A small may-issue list for the demo community 揽月社区 (used by ``seed-demo`` and tests)."""

from __future__ import annotations

from fengqiao_certificates.lists import add_item, latest_published, open_draft, publish
from fengqiao_certificates.models import MAY_ISSUE
from fengqiao_certificates.national import ensure_seeded

DEMO_ORG = "339901001001"
DEMO_ITEMS = (
    {"kind": MAY_ISSUE, "name": "实际居住证明", "applicants": "在本社区实际居住的居民", "time_limit_days": 3,
     "materials": "居民身份证；租赁合同或房产证明；水电缴费凭证（任一）",
     "template": "兹证明{姓名}自登记之日起在揽月社区辖区内实际居住。\n本证明用于{用途}。\n特此证明。"},
    {"kind": MAY_ISSUE, "name": "社区工作经历证明", "applicants": "曾在本社区任职或从事志愿服务的人员",
     "time_limit_days": 0, "materials": "居民身份证",
     "template": "兹证明{姓名}曾在{单位}参与社区工作。\n特此证明。"},
)


def seed_demo_lists() -> bool:
    ensure_seeded()
    if latest_published(DEMO_ORG) is not None:
        return False
    draft = open_draft(DEMO_ORG, None)
    draft.title = "揽月社区可以出具的证明事项清单"
    draft.source_document = "澄湖街道办事处〔2026〕1号"
    for item in DEMO_ITEMS:
        add_item(draft, item)
    publish(draft, None)
    return True
