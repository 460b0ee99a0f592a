"""fengqiao-agenda (居民议事), tested with the sdk's test kit only.

``app`` runs each test on SQLite and on PostgreSQL; ``agenda_items`` comes from the plugin's
own migration, applied with the core's.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import (
    csrf_token,
    imports_outside_the_sdk,
    login,
    migration_drift,
    submit_form,
)
from fengqiao.sdk.workdays import today_local

from fengqiao_agenda.models import AgendaItem

pytestmark = pytest.mark.plugins("agenda")

LANYUE, QIAODONG = "339901001001", "339901001002"  # 揽月社区 and 桥东社区 of the demo county
PROPOSAL = {"topic": "3 幢楼道加装扶手", "details": "老人上下楼不便，联系电话 13812345678。", "name": "李桂英",
            "mobile": "13812345678"}
API = "/api/v1/p/agenda"


def _propose(app, org: str = LANYUE) -> int:
    """A resident's proposal through the public API (a fresh, anonymous client); its item id."""
    made = submit_form(app.test_client(), "agenda-proposal", PROPOSAL, org=org)
    assert made["case_number"] is None and made["tracking_code"] is None  # intake-only: no case
    with app.app_context():
        return db.scalar(sa.select(AgendaItem.id).where(AgendaItem.submission_id == made["submission_id"]))


def _next_week() -> str:
    return (today_local() + timedelta(days=7)).isoformat()


def test_a_proposal_is_the_plugins_record_and_opens_no_case(app, demo, login_as, client):
    item_id = _propose(app)
    with app.app_context():
        item = db.get(AgendaItem, item_id)
        assert (item.org_code, item.topic, item.proposer, item.status) == (LANYUE, PROPOSAL["topic"], "李桂英", "proposed")
    login_as("shenli")
    assert "3 幢楼道加装扶手" not in client.get("/queues").get_data(as_text=True)  # nothing for the case queues
    assert client.get("/api/v1/cases", headers={}).status_code in (200, 401)
    page = client.get("/p/agenda/").get_data(as_text=True)
    assert "3 幢楼道加装扶手" in page and "李桂英" not in page  # the proposer's name is masked


def test_the_web_form_says_submitted_without_a_number(app, demo):
    resident = app.test_client()
    token = csrf_token(resident, f"/forms/agenda-proposal?org={LANYUE}")
    sent = resident.post(f"/forms/agenda-proposal?org={LANYUE}", data={**PROPOSAL, "csrf_token": token})
    assert sent.status_code == 303, sent.get_data(as_text=True)
    done = resident.get(sent.headers["Location"]).get_data(as_text=True)
    assert "已提交" in done and "查询码" not in done and "事项编号" not in done


def test_staff_of_another_community_cannot_see_or_decide_an_item(app, demo, bearer):
    item_id = _propose(app)
    pages = app.test_client()
    login(pages, "hanzhiming")  # 桥东社区
    assert pages.get(f"/p/agenda/items/{item_id}").status_code == 404
    assert "3 幢楼道加装扶手" not in pages.get("/p/agenda/").get_data(as_text=True)
    decided = app.test_client().post(f"{API}/items/{item_id}/decision", headers=bearer("hanzhiming"),
                                     json={"decision": "decline", "reply": "不在本社区"})
    assert decided.status_code == 404
    assert app.test_client().get(f"{API}/items", headers=bearer("hanzhiming")).get_json()["items"] == []


def test_a_decision_on_the_page_posts_its_csrf_token_and_flashes(app, demo, client, login_as):
    item_id = _propose(app)
    login_as("shenli")
    page = f"/p/agenda/items/{item_id}"
    token = csrf_token(client, page)
    assert client.post(f"{page}/decision", data={"decision": "accept", "meeting_on": _next_week()}).status_code == 400
    refused = client.post(f"{page}/decision", data={"decision": "decline", "csrf_token": token})
    assert refused.status_code == 303
    assert "不予采纳时请写明理由" in client.get(page).get_data(as_text=True)  # the refusal as a flash message
    done = client.post(f"{page}/decision", data={"decision": "accept", "meeting_on": _next_week(), "csrf_token": token})
    assert done.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "已列入议程" in shown and "沈丽" in shown  # the flash, and the history by display name
    with app.app_context():
        assert db.get(AgendaItem, item_id).status == "scheduled"


def test_the_api_decides_once_and_the_history_is_read_back(app, demo, bearer):
    from fengqiao.sdk.privacy import audit_history

    item_id = _propose(app)
    api = app.test_client()
    staff = bearer("shenli")
    bad = api.post(f"{API}/items/{item_id}/decision", headers=staff, json={"decision": "accept"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/meeting_on"
    ok = api.post(f"{API}/items/{item_id}/decision", headers=staff, json={"decision": "decline", "reply": "已由物业解决"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "declined"
    again = api.post(f"{API}/items/{item_id}/decision", headers=staff, json={"decision": "decline", "reply": "x"})
    assert again.status_code == 409 and again.get_json()["errors"][0]["code"] == "decided"
    listed = api.get(f"{API}/items", headers=staff).get_json()
    assert [i["id"] for i in listed["items"]] == [item_id] and listed["items"][0]["mobile"] == "138****5678"
    with app.app_context():
        history = audit_history(f"agenda:{item_id}")
        assert [(h.actor, h.action, h.detail["decision"]) for h in history] == [("shenli", "agenda.decide", "decline")]


def test_the_openapi_entry_types_the_item_id_as_an_integer(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/p/agenda/items/{item_id}/decision"]["post"]
    assert operation["parameters"][0]["schema"]["type"] == "integer"
    assert operation["requestBody"]["content"]["application/json"]["schema"]["required"] == ["decision"]


def test_model_and_migration_agree(app):
    assert migration_drift(app, "agenda_") == []


def test_imports_only_the_sdk_from_the_core():
    package = Path(__file__).resolve().parents[1] / "fengqiao_agenda"
    assert imports_outside_the_sdk(package) == []
