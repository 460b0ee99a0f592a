"""Both plugins enabled: volunteer hours of a 双报到 member reach the vanguard score.

The volunteer plugin is driven only through its HTTP API (issue 9 §9) and never imported;
the test skips when its entry point is not installed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.metadata import entry_points

import pytest
from fengqiao.sdk.workdays import LOCAL_TZ
from vanguard_helpers import ID_CARD, LANYUE, YEAR, approve, new_member, score

VOLUNTEER_INSTALLED = any(e.name == "volunteer" for e in entry_points(group="fengqiao.plugins"))
pytestmark = [
    pytest.mark.plugins("volunteer", "vanguard"),
    pytest.mark.skipif(not VOLUNTEER_INSTALLED,
                       reason="the volunteer plugin (entry point 'volunteer' in fengqiao.plugins) is not installed"),
]


def _created(response) -> int:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_double_report_hours_add_vanguard_points(client, bearer):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli, id_card=ID_CARD)
    api = "/api/v1/p/volunteer"
    volunteer = _created(client.post(f"{api}/volunteers", headers=shenli, json={
        "name": "张建华", "id_card": ID_CARD, "mobile": "13800138000", "org": LANYUE,
        "party_member": True, "double_report": True}))
    now = datetime.now(LOCAL_TZ).replace(second=0, microsecond=0, tzinfo=None)
    activity = _created(client.post(f"{api}/activities", headers=shenli, json={
        "title": "楼道清洁日", "org": LANYUE, "quota": 10,
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=4)).isoformat()}))
    enrolled = client.post(f"{api}/activities/{activity}/enrollments", headers=shenli, json={"volunteer": volunteer})
    assert enrolled.status_code == 201, enrolled.get_data(as_text=True)
    recorded = client.post(f"{api}/activities/{activity}/hours", headers=shenli, json={"volunteer": volunteer, "hours": 3})
    assert recorded.status_code == 201, recorded.get_data(as_text=True)

    queue = client.get("/api/v1/p/vanguard/queue", headers=shenli).get_json()["items"]
    assert [(e["member"], e["source"], e["indicator_code"], e["points"]) for e in queue] == [
        (member_id, "volunteer", "double_report", 1.5)]
    assert "楼道清洁日" in queue[0]["reason"]
    approve(client, luojia, queue[0]["id"])
    result = score(client, shenli, member_id, YEAR if now.year == YEAR else now.year)
    assert result["score"] == 1.5 and result["items"][6]["code"] == "double_report"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_switching_volunteer_off_breaks_nothing(client, bearer, login_as):
    from fengqiao.sdk.testing import csrf_token

    shenli = bearer("shenli")
    member_id = new_member(client, shenli, id_card=ID_CARD)
    login_as("admin")
    token = csrf_token(client, "/admin/plugins")
    assert client.post("/admin/plugins/volunteer/switch", data={"enabled": "0", "csrf_token": token}).status_code == 302
    assert client.post("/api/v1/p/volunteer/volunteers", headers=shenli, json={
        "name": "张建华", "id_card": ID_CARD, "org": LANYUE}).status_code == 404
    assert client.get("/p/vanguard/").status_code == 200
    assert client.get(f"/p/vanguard/members/{member_id}").status_code == 200
    assert score(client, shenli, member_id)["score"] == 0
