"""Case actions through the API: claim races, workflow transitions, guards, history."""

from __future__ import annotations

import threading

import pytest

from fengqiao.testing.plugin import api_token, submit_form, walk_case

INCIDENT = {
    "summary": "揽月花园3幢楼道堆物堵塞消防通道",
    "category": "安全隐患",
    "description": "3幢2单元楼道堆放纸箱和旧家具。",
    "location": {"address": "揽月花园3幢2单元"},
}


@pytest.fixture
def incident(client, bearer):
    """A grid incident reported by 张敏 in 揽月花园 (grid of 揽月社区)."""
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]


def _case(client, headers, number):
    response = client.get(f"/api/v1/cases/{number}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _act(client, headers, number, action, **body):
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def test_walk_an_incident_to_closure_with_full_history(client, bearer, incident):
    staff = bearer("shenli")
    case = _case(client, staff, incident)
    assert case["state"] == "reported" and case["type"] == "grid_incident"
    assert set(case["allowed_actions"]) >= {"claim", "accept", "reject", "self_handle"}
    accepted = _act(client, staff, incident, "accept", version=case["version"])
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    v = accepted.get_json()["version"]
    started = _act(client, staff, incident, "start", version=v).get_json()
    assert started["state"] == "in_progress" and started["assignee"] == "shenli"
    no_result = _act(client, staff, incident, "report_back", version=started["version"], comment="已清理")
    assert no_result.status_code == 422
    assert no_result.get_json()["errors"][0]["pointer"] == "/fields/result"
    back = _act(client, staff, incident, "report_back", version=started["version"], comment="已清理",
                fields={"result": "物业已清走杂物"}).get_json()
    grid = bearer("zhangmin")
    no_comment = _act(client, grid, incident, "verify_pass", version=back["version"])
    assert no_comment.status_code == 422 and no_comment.get_json()["errors"][0]["code"] == "required"
    closed = _act(client, grid, incident, "verify_pass", version=back["version"], comment="现场核查通过")
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    final = _case(client, staff, incident)
    assert set(final["allowed_actions"]) == {"comment", "reopen"}  # no workflow transitions left
    steps = [(h["action"], h["from_state"], h["to_state"], h["actor"]) for h in final["history"]]
    assert steps == [
        ("submit", None, "reported", "zhangmin"),
        ("accept", "reported", "accepted", "shenli"),
        ("start", "accepted", "in_progress", "shenli"),
        ("report_back", "in_progress", "reported_back", "shenli"),
        ("verify_pass", "reported_back", "closed", "zhangmin"),
    ]
    assert final["history"][-1]["comment"] == "现场核查通过"


def test_walk_case_helper_reaches_closure(client, bearer, incident):
    final = walk_case(client, incident, [
        ("accept", {}), ("start", {}),
        ("report_back", {"comment": "已清理", "fields": {"result": "物业已清走杂物"}}),
        ("verify_pass", {"comment": "核查通过"}),
    ], bearer("shenli"))
    assert final["state"] == "closed" and len(final["history"]) == 5


def test_stale_version_is_409(client, bearer, incident):
    staff = bearer("shenli")
    v = _case(client, staff, incident)["version"]
    assert _act(client, staff, incident, "accept", version=v).status_code == 200
    stale = _act(client, staff, incident, "start", version=v)
    assert stale.status_code == 409
    assert stale.get_json()["errors"][0] == {
        "pointer": "/version", "message": "该事项已被他人修改，请刷新后重试", "code": "stale"}


def test_forbidden_and_unknown_actions(client, bearer, incident):
    grid = bearer("zhangmin")
    v = _case(client, grid, incident)["version"]
    assert _act(client, grid, incident, "accept", version=v).status_code == 403  # staff only
    assert _act(client, grid, incident, "verify_pass", version=v, comment="x").status_code == 403  # wrong state
    assert _act(client, grid, incident, "fly", version=v).status_code == 404
    missing_version = _act(client, grid, incident, "claim")
    assert missing_version.status_code == 422


def test_other_community_gets_404_everywhere(client, bearer, incident):
    other = bearer("hanzhiming")  # 桥东社区
    assert client.get(f"/api/v1/cases/{incident}", headers=other).status_code == 404
    assert _act(client, other, incident, "claim", version=1).status_code == 404
    viewer = bearer("lingdao")  # read-only: sees it, cannot act
    assert client.get(f"/api/v1/cases/{incident}", headers=viewer).status_code == 200
    assert _act(client, viewer, incident, "claim", version=1).status_code == 403


def test_concurrent_claims_exactly_one_wins(client, demo, incident):
    tokens = [api_token(client, u) for u in ("shenli", "luojia", "ducha", "admin")]
    results = []
    barrier = threading.Barrier(len(tokens))

    def claim(token):
        local = demo.test_client()
        barrier.wait()
        response = local.post(f"/api/v1/cases/{incident}/actions/claim", json={"version": 1},
                              headers={"Authorization": f"Bearer {token}"})
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=claim, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409], results
    for status, body in results:
        if status == 409:
            assert body["errors"][0]["code"] == "claimed"
            assert body["errors"][0]["message"] == "已被他人认领"
    claimed = [body for status, body in results if status == 200][0]
    history = _case(client, {"Authorization": f"Bearer {tokens[2]}"}, incident)["history"]
    assert [h["action"] for h in history] == ["submit", "claim"]
    assert claimed["assignee"] in ("shenli", "luojia", "ducha", "admin")
