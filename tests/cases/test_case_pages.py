"""The queue and the case page: scoped, masked, actions with kept input, history."""

from __future__ import annotations

import re

from fengqiao.testing.plugin import csrf_token, login, submit_form

REQUEST = {"request_type": "help", "summary": "湖滨路烧烤店夜间油烟噪音扰民",  # 投诉 would hide the caller
           "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福",
           "caller_mobile": "13800138000", "id_card": "339901195203140111"}


def test_queue_and_detail_are_scoped_and_masked(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    queue = client.get("/queues").get_data(as_text=True)
    assert number in queue and "民生诉求" in queue and "待受理" in queue
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "339901********0111" in page and "138****8000" in page
    assert "339901195203140111" not in page and "13800138000" not in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "hanzhiming")
    assert number not in client.get("/queues").get_data(as_text=True)
    assert client.get(f"/cases/{number}").status_code == 404


def test_actions_from_the_case_page(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    token = csrf_token(client, f"/cases/{number}")
    missing = client.post(f"/cases/{number}", data={
        "csrf_token": token, "action": "answer", "version": "1", "comment": ""})
    assert missing.status_code == 422 and "请填写办理意见" in missing.get_data(as_text=True)
    done = client.post(f"/cases/{number}", data={
        "csrf_token": token, "action": "answer", "version": "1", "comment": "已电话答复：属执法局职责。"})
    assert done.status_code == 302
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "已结单" in page and "已电话答复：属执法局职责。" in page and "沈丽" in page
    stale = client.post(f"/cases/{number}", data={
        "csrf_token": token, "action": "answer", "version": "1", "comment": "again"})
    assert stale.status_code == 422 and re.search("不能执行此操作|已被他人修改", stale.get_data(as_text=True))


def test_the_start_page_counts_my_queues_in_my_scope_only(client, demo):
    submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    login(client, "shenli")
    page = client.get("/").get_data(as_text=True)
    unclaimed = re.search(r'href="/queues\?view=unclaimed"><b>(\d+)</b><span>待认领', page)
    assert unclaimed and unclaimed.group(1) == "1"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "hanzhiming")  # 桥东社区: the case is not theirs
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/queues\?view=unclaimed"><b>0</b>', page)


def test_the_assign_form_offers_the_people_of_the_case_units_by_name(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    form = page[page.index('data-action="assign"'):]
    form = form[:form.index("</form>")]
    assert '<option value="zhangmin"' in form and "张敏" in form  # 揽月社区's grid worker
    assert 'value="chenjing"' not in form  # 桥东社区's grid worker may not take it
