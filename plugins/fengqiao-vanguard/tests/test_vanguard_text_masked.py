"""Free text typed by residents (objections) and by staff about people (score reasons) goes
through the masking layer on the vanguard pages and API (issue 17, finding 8)."""

from __future__ import annotations

import re

import pytest
from fengqiao.sdk.testing import csrf_token
from vanguard_helpers import LANYUE, YEAR, approve, new_member, propose

pytestmark = [pytest.mark.plugins("vanguard"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PHONE, ID_NUMBER = "13912344321", "110105199003071234"


def test_objections_and_score_reasons_are_masked(app, client, bearer, login_as):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli, name="张建华")
    event = propose(client, shenli, member_id, "service", 10, reason=f"帮 {PHONE} 的独居老人买菜")
    approve(client, luojia, event)
    api = client.get(f"/api/v1/p/vanguard/events/{event}", headers=shenli).get_json()
    assert api["reason"] == "帮 139****4321 的独居老人买菜"
    notice = client.post("/api/v1/p/vanguard/notices", headers=shenli,
                         json={"org": LANYUE, "year": YEAR, "quarter": 1}).get_json()
    public = app.test_client()
    page = f"/p/vanguard/notices/{notice['id']}"
    sent = public.post(f"{page}/objections", data={
        "text": f"张某身份证 {ID_NUMBER}，电话 {PHONE}，本季度未参加巡逻", "csrf_token": csrf_token(public, page)})
    assert sent.status_code == 302
    login_as("shenli")
    staff_view = client.get(page).get_data(as_text=True)
    assert "本季度未参加巡逻" in staff_view and "139****4321" in staff_view
    member_page = client.get(f"/p/vanguard/members/{member_id}").get_data(as_text=True)
    queue = client.get("/p/vanguard/queue").get_data(as_text=True)
    for html in (staff_view, member_page, queue):
        assert PHONE not in html and ID_NUMBER not in html
    assert re.search(r"139\*{4}4321", member_page)
