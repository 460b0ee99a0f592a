"""Dispatching a case to a department: the department sees and handles it; others don't."""

from __future__ import annotations

from fengqiao.testing.plugin import csrf_token, login, submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def test_department_handles_what_it_was_sent(client, bearer):
    """A street dispatcher (luojia) sends it: departments are routable from the street."""
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    water = bearer("shuiwu")  # 水务集团
    assert client.get(f"/api/v1/cases/{number}", headers=water).status_code == 404  # not yet sent
    missing = client.post(f"/api/v1/cases/{number}/actions/dispatch", json={"version": 1},
                          headers=bearer("luojia"))
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["pointer"] == "/fields/unit"
    unknown = client.post(f"/api/v1/cases/{number}/actions/dispatch",
                          json={"version": 1, "fields": {"unit": "000"}}, headers=bearer("luojia"))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["code"] == "unknown_org"
    walk_case(client, number, [("dispatch", {"fields": {"unit": "339901906"}})], bearer("luojia"))
    listed = {c["number"] for c in client.get("/api/v1/cases", headers=water).get_json()["items"]}
    assert listed == {number}
    case = client.get(f"/api/v1/cases/{number}", headers=water).get_json()
    assert "acknowledge" in case["allowed_actions"]
    final = walk_case(client, number, [("acknowledge", {}),
                                       ("reply", {"comment": "已抢修", "fields": {"reply": "管道已修复，恢复供水"}})],
                      water)
    assert final["state"] == "replied" and final["assignee"] == "shuiwu"
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("zhujian")).status_code == 404  # 住建局
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("hanzhiming")).status_code == 404


def test_dispatch_from_the_case_page(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "luojia")  # 澄湖街道 dispatches to the county's departments
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "水务集团（职能部门）" in page
    response = client.post(f"/cases/{number}", data={
        "csrf_token": csrf_token(client, f"/cases/{number}"), "action": "dispatch", "version": "1",
        "field_unit": "339901906"})
    assert response.status_code == 302
    assert "已派单" in client.get(f"/cases/{number}").get_data(as_text=True)
