"""New cases get their deadline from the case type's SLA and the official calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fengqiao.cases.case_types import case_type
from fengqiao.forms.submit import _deadline
from fengqiao.testing.plugin import submit_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
INCIDENT = {"summary": "窨井盖破损", "category": "安全隐患", "description": "湖滨路桥东路口窨井盖破损。",
            "location": {"address": "湖滨路桥东路口"}}


def test_tiers_use_working_days_or_natural_hours(demo):
    with demo.app_context():
        ctype = case_type("grid_incident")
        before_national_day = datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)
        normal = _deadline(ctype, {"urgency": "normal"}, before_national_day, "/339901/339901001/339901001001/")
        # 3 working days after the last working day before 国庆 2025: the 调休 Saturday 10-11
        assert normal.at == datetime(2025, 10, 11, 17, 30, tzinfo=SHANGHAI) and not normal.provisional
        urgent = _deadline(ctype, {"urgency": "urgent"}, before_national_day, "/339901/339901001/339901001001/")
        assert urgent.at == datetime(2025, 10, 1, 10, 0, tzinfo=SHANGHAI)  # 24 natural hours
        christmas_eve = datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI)
        difficult = _deadline(ctype, {"urgency": "difficult"}, christmas_eve, "/339901/339901001/339901001001/")
        assert difficult.at.year == 2027 and difficult.provisional  # 2027 not yet announced
        assert _deadline(case_type("whistle"), {}, christmas_eve, "/339901/339901001/") is None


def test_submitted_cases_carry_their_deadline(client, bearer):
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("liuyang"))["case_number"]
    case = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert case["deadline"] is not None and case["sla_status"] in ("on_track", "provisional")
    deadline = datetime.fromisoformat(case["deadline"]).astimezone(SHANGHAI)
    assert (deadline.hour, deadline.minute) == (17, 30)  # close of a working day (tier 一般)
