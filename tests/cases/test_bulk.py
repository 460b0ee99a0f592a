"""Bulk actions from the queue: every case through the workflow engine on its own, one
outcome per case, partial failures reported with their reasons."""

from __future__ import annotations

import re

from fengqiao.testing.plugin import csrf_token, login, submit_form

LANYUE, QIAODONG = "339901001001", "339901001002"
REQUEST = {"request_type": "report", "summary": "夜间噪音扰民", "content": "每晚十点后噪音很大。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _submit(client, n=3, org=LANYUE) -> list[str]:
    return [submit_form(client, "livelihood-request", {**REQUEST, "summary": f"噪音扰民{i}"}, org=org)["case_number"]
            for i in range(n)]


def _bulk(client, headers, action, cases, **body):
    return client.post(f"/api/v1/cases/bulk/{action}", json={"cases": cases, **body}, headers=headers)


def _case(client, headers, number):
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def test_bulk_claim_one_already_claimed(client, bearer):
    a, b, c = _submit(client)
    taken = client.post(f"/api/v1/cases/{b}/actions/claim", json={"version": 1}, headers=bearer("luojia"))
    assert taken.status_code == 200
    staff = bearer("shenli")
    response = _bulk(client, staff, "claim", [{"number": n, "version": 1} for n in (a, b, c, a)])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["number"] for r in results] == [a, b, c]  # in the order asked, a duplicate once
    assert results[0] == {"number": a, "ok": True, "state": "received", "version": 2}
    assert results[1] == {"number": b, "ok": False, "error": {"code": "claimed", "message": "已被他人认领"}}
    assert results[2]["ok"] is True
    assert [_case(client, staff, n)["assignee"] for n in (a, b, c)] == ["shenli", "luojia", "shenli"]
    history = _case(client, staff, a)["history"]
    assert [(h["action"], h["actor"]) for h in history][-1] == ("claim", "shenli")  # the engine's own record


def test_bulk_transition_with_one_in_the_wrong_state(client, bearer):
    a, b, c = _submit(client)
    staff = bearer("shenli")
    moved = client.post(f"/api/v1/cases/{b}/actions/dispatch",  # the street routes to departments
                        json={"version": 1, "fields": {"unit": "339901906"}}, headers=bearer("luojia"))
    assert moved.status_code == 200, moved.get_json()
    cases = [{"number": a, "version": 1}, {"number": b, "version": 2}, {"number": c, "version": 1}]
    no_comment = _bulk(client, staff, "answer", cases).get_json()["results"]
    assert [r["ok"] for r in no_comment] == [False, False, False]  # the guard, case by case
    assert no_comment[0]["error"] == {"code": "required", "message": "请填写办理意见"}
    results = _bulk(client, staff, "answer", cases, comment="已电话答复").get_json()["results"]
    assert results[0] == {"number": a, "ok": True, "state": "closed", "version": 2}
    assert results[1] == {"number": b, "ok": False,
                          "error": {"code": "forbidden_transition", "message": "当前状态下不能执行此操作"}}
    assert results[2]["ok"] and results[2]["state"] == "closed"
    assert _case(client, staff, b)["state"] == "dispatched"  # untouched by its neighbours' success
    assert _case(client, staff, a)["history"][-1]["comment"] == "已电话答复"


def test_per_case_stale_unseen_and_unknown(client, bearer):
    mine, = _submit(client, 1)
    theirs, = _submit(client, 1, org=QIAODONG)
    staff = bearer("shenli")
    results = _bulk(client, staff, "claim", [
        {"number": mine, "version": 7}, {"number": theirs, "version": 1},
        {"number": "GD-20000101-000001", "version": 1}]).get_json()["results"]
    assert results[0]["error"] == {"code": "stale", "message": "该事项已被他人修改，请刷新后重试"}
    assert results[1]["error"]["message"] == "事项不存在或无权查看"  # 桥东's case: no hint it exists
    assert results[2]["error"]["message"] == "事项不存在或无权查看"
    assert _case(client, bearer("hanzhiming"), theirs)["assignee"] is None
    fly = _bulk(client, staff, "fly", [{"number": mine, "version": 1}]).get_json()["results"]
    assert fly[0]["ok"] is False and "未知操作" in fly[0]["error"]["message"]


def test_batch_too_large_or_empty_is_422(client, bearer):
    staff = bearer("shenli")
    too_many = _bulk(client, staff, "claim", [{"number": f"GD-20260101-{i:06d}", "version": 1} for i in range(101)])
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"][0] == {
        "pointer": "/cases", "message": "一次最多批量办理 100 件事项，请分批办理", "code": "maxItems"}
    empty = _bulk(client, staff, "claim", [])
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["message"] == "请至少选择一件事项"
    malformed = _bulk(client, staff, "claim", [{"number": "x"}])
    assert malformed.status_code == 422 and malformed.get_json()["errors"][0]["pointer"] == "/cases/0/version"
    assert _bulk(client, bearer("lingdao"), "claim", [{"number": "x", "version": 1}]).status_code == 403
    assert client.post("/api/v1/cases/bulk/claim", json={"cases": []}).status_code == 401


def test_bulk_assign_through_the_engine(client, bearer):
    a, b = _submit(client, 2)
    staff = bearer("shenli")
    assert "assign" in _case(client, staff, a)["allowed_actions"]
    results = _bulk(client, staff, "assign", [{"number": a, "version": 1}, {"number": b, "version": 1}],
                    fields={"assignee": "luojia"}).get_json()["results"]
    assert [r["ok"] for r in results] == [True, True], results
    assert {_case(client, staff, n)["assignee"] for n in (a, b)} == {"luojia"}
    wrong = _bulk(client, staff, "assign", [{"number": a, "version": results[0]["version"]}],
                  fields={"assignee": "chenjing"}).get_json()["results"]  # 桥东's grid worker
    assert wrong[0]["ok"] is False and wrong[0]["error"]["message"].startswith("指派给")


def test_bulk_from_the_queue_page(client, demo):
    a, b, c = _submit(client)
    login(client, "shenli")
    page = client.get("/queues?view=unclaimed").get_data(as_text=True)
    assert f'value="{a}:1"' in page and 'name="op" value="claim"' in page
    token = csrf_token(client, "/queues")
    done = client.post("/queues/bulk", data={"csrf_token": token, "op": "claim", "cases": [f"{a}:1", f"{b}:1"],
                                             "next": "/queues?view=unclaimed"})
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "成功 2 件，失败 0 件" in html and 'href="/queues?view=unclaimed"' in html
    again = client.post("/queues/bulk", data={"csrf_token": token, "op": "claim",
                                              "cases": [f"{a}:1", f"{c}:1"], "next": "https://evil.example/"})
    html = again.get_data(as_text=True)
    assert "成功 1 件，失败 1 件" in html and "已被他人认领" in html
    assert "evil.example" not in html  # back only ever to the queue
    rows = re.findall(r'<tr data-number="([^"]+)" class="(ok|failed)"', html)
    assert rows == [(a, "failed"), (c, "ok")]
    transition = client.post("/queues/bulk", data={
        "csrf_token": token, "op": "transition", "transition": "answer", "comment": "已答复",
        "cases": [f"{a}:2"]}).get_data(as_text=True)
    assert "成功 1 件" in transition and "当前状态：已结单" in transition
    nobody = client.post("/queues/bulk", data={"csrf_token": token, "op": "assign", "assignee": "",
                                               "cases": [f"{c}:2"]})
    assert nobody.status_code == 422 and "请选择指派给谁" in nobody.get_data(as_text=True)
    none = client.post("/queues/bulk", data={"csrf_token": token, "op": "claim"})
    assert none.status_code == 422 and "请至少选择一件事项" in none.get_data(as_text=True)
    many = client.post("/queues/bulk", data={"csrf_token": token, "op": "claim",
                                             "cases": [f"GD-20260101-{i:06d}:1" for i in range(101)]})
    assert many.status_code == 422 and "一次最多批量办理 100 件" in many.get_data(as_text=True)
    assert client.post("/queues/bulk", data={"op": "claim", "cases": [f"{c}:1"]}).status_code == 400  # CSRF


def test_viewer_has_no_bulk_bar_and_cannot_post(client, demo):
    _submit(client, 1)
    login(client, "lingdao")
    page = client.get("/queues").get_data(as_text=True)
    assert "批量认领" not in page and 'name="cases"' not in page
    token = csrf_token(client, "/")
    assert client.post("/queues/bulk", data={"csrf_token": token, "op": "claim"}).status_code == 403
