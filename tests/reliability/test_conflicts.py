"""Concurrent writers: two staff acting on one case from the same version (the second gets
409 and overwrites nothing), and one submission posted twice at once with one
``Idempotency-Key`` (one case). Sequential versions of both live in tests/cases and tests/forms."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case
from fengqiao.testing.plugin import submit_form

INCIDENT = {
    "summary": "揽月花园3幢楼道堆物堵塞消防通道",
    "category": "安全隐患",
    "description": "3幢2单元楼道堆放纸箱和旧家具。",
    "location": {"address": "揽月花园3幢2单元"},
}
REQUEST = {
    "request_type": "complaint",
    "summary": "湖滨路烧烤店夜间油烟噪音扰民",
    "content": "每晚十点后油烟和噪音很大。",
    "caller_name": "陈德福",
    "caller_mobile": "13800138000",
    "id_card": "339901195203140111",
}


def test_two_staff_editing_one_case_the_second_gets_409(client, bearer):
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    community, street = bearer("shenli"), bearer("luojia")
    url = f"/api/v1/cases/{number}"
    seen = {who: client.get(url, headers=h).get_json() for who, h in (("shenli", community), ("luojia", street))}
    assert seen["shenli"]["version"] == seen["luojia"]["version"]
    assert "reject" in seen["luojia"]["allowed_actions"]

    first = client.post(f"{url}/actions/claim", headers=community,
                        json={"version": seen["shenli"]["version"], "comment": "社区认领"})
    assert first.status_code == 200, first.get_json()
    second = client.post(f"{url}/actions/reject", headers=street,
                         json={"version": seen["luojia"]["version"], "comment": "不属于本街道"})
    assert second.status_code == 409
    assert second.get_json()["errors"][0]["code"] == "stale"

    after = client.get(url, headers=street).get_json()
    assert after["state"] == "reported" and after["version"] == first.get_json()["version"]
    assert after["assignee"] == "shenli"
    assert [h["action"] for h in after["history"]] == ["submit", "claim"]


def test_one_idempotency_key_posted_twice_at_once_opens_one_case(client, demo):
    headers = {"Idempotency-Key": "kiosk-3-20261127-0042"}
    barrier = threading.Barrier(2)
    results = []

    def post():
        local = demo.test_client()
        barrier.wait()
        response = local.post("/api/v1/forms/livelihood-request/submissions", json=REQUEST, headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(status for status, _ in results) == [200, 201], results
    assert results[0][1]["case_number"] == results[1][1]["case_number"]
    with demo.app_context():
        assert db.scalar(sa.select(sa.func.count(Case.id))) == 1
