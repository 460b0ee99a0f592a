"""The ``four_eyes`` guard: whoever submitted a case or took the step into its current state
may not take the guarded step (初审 and 复审 by different people, no self-approval)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from fengqiao.cases import case_types
from fengqiao.db import db
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.models import User
from fengqiao.testing.plugin import submit_form

INCIDENT = {"summary": "湖滨路井盖松动", "category": "市容环境", "description": "湖滨路12号门前井盖松动。",
            "location": {"address": "湖滨路12号"}}


def _guard_accept(app) -> None:
    definition = json.loads((CORE_DEFINITIONS / "grid_incident.casetype.json").read_text(encoding="utf-8"))
    for t in definition["workflow"]["transitions"]:
        if t["name"] in ("accept", "self_handle"):
            t["guards"] = [*t.get("guards", []), "four_eyes"]
    with app.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        case_types.save_version("grid_incident", json.dumps(definition, ensure_ascii=False), "四眼原则", admin)
        db.commit()


def _actions(client, headers, number) -> set[str]:
    return set(client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["allowed_actions"])


def test_the_submitter_may_not_take_a_four_eyes_step(app, client, bearer, demo):
    _guard_accept(app)
    shenli, luojia = bearer("shenli"), bearer("luojia")
    number = submit_form(client, "grid-incident", INCIDENT, headers=shenli)["case_number"]
    assert "accept" not in _actions(client, shenli, number) and "reject" in _actions(client, shenli, number)
    version = client.get(f"/api/v1/cases/{number}", headers=shenli).get_json()["version"]
    refused = client.post(f"/api/v1/cases/{number}/actions/accept", json={"version": version}, headers=shenli)
    assert refused.status_code == 403
    assert "accept" in _actions(client, luojia, number)  # another person of a unit above may
    taken = client.post(f"/api/v1/cases/{number}/actions/accept", json={"version": version}, headers=luojia)
    assert taken.status_code == 200 and taken.get_json()["state"] == "accepted"
