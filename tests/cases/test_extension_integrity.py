"""A deadline that has passed stays passed (issue 18, deadline integrity, first rules):
延期 is asked for before the deadline, and an approval cannot rescue a case that went
overdue while the request waited — 按期办结率 must not be gameable."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.models import Case
from fengqiao.testing.plugin import submit_form

INCIDENT = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "湖滨路东段三盏路灯夜间不亮。",
            "location": {"address": "湖滨路东段"}, "urgency": "normal"}


@pytest.fixture
def incident(client, bearer):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]


def _case(client, headers, number):
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def _act(client, headers, number, action, **body):
    body.setdefault("version", _case(client, headers, number)["version"])
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def _deadline(app, number, when=None):
    with app.app_context():
        if when is not None:
            db.execute(sa.update(Case).where(Case.number == number).values(deadline=when))
            db.commit()
        return db.scalar(sa.select(Case.deadline).where(Case.number == number))


def test_an_overdue_case_cannot_ask_for_an_extension(app, client, bearer, incident):
    staff = bearer("shenli")
    passed = _deadline(app, incident, utcnow() - timedelta(hours=2))
    assert "request_extension" not in _case(client, staff, incident)["allowed_actions"]
    asked = _act(client, staff, incident, "request_extension", comment="需协调供电公司", fields={"amount": 2})
    assert asked.status_code in (403, 422), asked.get_data(as_text=True)
    assert "期限" in asked.get_json()["errors"][0]["message"]
    assert _case(client, staff, incident).get("pending_extension") is None
    assert _deadline(app, incident) == passed


def test_an_extension_that_waited_past_the_deadline_cannot_be_approved(app, client, bearer, incident):
    staff, supervisor = bearer("shenli"), bearer("ducha")
    asked = _act(client, staff, incident, "request_extension", comment="需协调供电公司", fields={"amount": 2})
    assert asked.status_code == 200
    passed = _deadline(app, incident, utcnow() - timedelta(minutes=5))  # nobody decided in time
    allowed = _case(client, supervisor, incident)["allowed_actions"]
    assert "approve_extension" not in allowed and "reject_extension" in allowed
    approved = _act(client, supervisor, incident, "approve_extension")
    assert approved.status_code in (403, 422), approved.get_data(as_text=True)
    assert _deadline(app, incident) == passed
    rejected = _act(client, supervisor, incident, "reject_extension", comment="已超期，按超期处理")
    assert rejected.status_code == 200
    assert _case(client, staff, incident).get("pending_extension") is None
    assert _deadline(app, incident) == passed


def test_an_extension_asked_and_approved_in_time_still_moves_the_deadline(app, client, bearer, incident):
    staff, supervisor = bearer("shenli"), bearer("ducha")
    before = _deadline(app, incident)
    assert _act(client, staff, incident, "request_extension", comment="需协调", fields={"amount": 1}).status_code == 200
    assert _act(client, supervisor, incident, "approve_extension").status_code == 200
    assert _deadline(app, incident) > before
