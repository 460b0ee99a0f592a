"""The JSON API of plugins/fengqiao-vanguard/README.md ("API") and issue 10 on SQLite and
PostgreSQL: members, events, review, scores, indicators, sets."""

from __future__ import annotations

import pytest
from vanguard_helpers import (
    ID_CARD,
    LANYUE,
    PERIOD,
    QIAODONG,
    YEAR,
    approve,
    id_card,
    new_member,
    propose,
    score,
)

pytestmark = pytest.mark.plugins("vanguard")
API = "/api/v1/p/vanguard"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # review, scores, signal, notices: both


def _codes(errors: dict) -> dict[str, str]:
    return {e["pointer"]: e["code"] for e in errors["errors"]}


@sqlite_only
def test_indicators_list_the_default_set(client, bearer):
    response = client.get(f"{API}/indicators", headers=bearer("shenli"))
    assert response.status_code == 200
    items = response.get_json()
    assert {"id", "name", "kind", "max_points"} <= set(items[0])
    kinds = {i["kind"] for i in items}
    assert kinds == {"basic", "bonus", "deduction", "veto"}
    assert sum(i["max_points"] for i in items if i["kind"] == "basic") == 100
    assert client.get(f"{API}/indicators").status_code == 401


@sqlite_only
def test_every_route_is_documented(app, client):
    import re

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = [(re.sub(r"<(?:int:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith(API)
              for method in rule.methods - {"HEAD", "OPTIONS"}]
    assert len(routes) >= 20
    for path, method in routes:
        assert method in paths.get(path, {}), f"{method} {path} is not documented"


@sqlite_only
def test_create_member_and_validation(client, bearer):
    headers = bearer("shenli")
    member_id = new_member(client, headers, id_card=ID_CARD, mobile="13800138000", posts=["patrol"],
                           commitments="每周巡逻两次")
    shown = client.get(f"{API}/members/{member_id}", headers=headers).get_json()
    assert shown["id_card"] != ID_CARD and shown["id_card"].endswith(ID_CARD[-4:]) and "*" in shown["id_card"]
    assert shown["mobile"] == "138****8000"
    response = client.post(f"{API}/members", headers=headers,
                           json={"org": LANYUE, "member_type": "soldier", "id_card": "123"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert _codes(response.get_json()) == {"/name": "required", "/member_type": "enum", "/id_card": "format"}
    assert all(e["message"] and not e["message"].isascii() for e in errors)  # Chinese messages
    duplicate = client.post(f"{API}/members", headers=headers,
                            json={"name": "李四", "org": LANYUE, "member_type": "retired", "id_card": ID_CARD})
    assert duplicate.status_code == 409
    unknown = client.post(f"{API}/members", headers=headers, json={"name": "李四", "org": "999", "member_type": "other"})
    assert _codes(unknown.get_json()) == {"/org": "unknown_org"}


@sqlite_only
def test_members_are_scoped_to_the_branch(client, bearer):
    member_id = new_member(client, bearer("shenli"))
    other = bearer("hanzhiming")  # 桥东社区
    assert client.get(f"{API}/members/{member_id}", headers=other).status_code == 404
    assert client.get(f"{API}/members/{member_id}/score", headers=other).status_code == 404
    assert client.post(f"{API}/members", headers=other,
                       json={"name": "王五", "org": LANYUE, "member_type": "other"}).status_code == 403
    assert client.get(f"{API}/members", headers=other).get_json()["items"] == []
    assert [m["id"] for m in client.get(f"{API}/members", headers=bearer("luojia")).get_json()["items"]] == [member_id]
    assert client.post(f"{API}/members", headers=bearer("zhangmin"),  # a grid worker: no vanguard.review
                       json={"name": "王五", "org": LANYUE, "member_type": "other"}).status_code == 403
    assert new_member(client, other, org=QIAODONG)


def test_event_review_and_score(client, bearer):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli)
    indicators = {i["code"]: i["id"] for i in client.get(f"{API}/indicators?org={LANYUE}", headers=shenli).get_json()}
    events = [propose(client, shenli, member_id, indicators[code], points)
              for code, points in [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("service", 19.9)]]
    assert score(client, shenli, member_id) == {**score(client, shenli, member_id), "score": 0, "stars": 0,
                                                "vetoed": False}
    # The proposer cannot approve their own event; another secretary can, once.
    own = client.post(f"{API}/events/{events[0]}/approve", headers=shenli)
    assert own.status_code == 403 and own.get_json()["errors"][0]["code"] == "self_review"
    for event_id in events:
        approve(client, luojia, event_id)
    again = client.post(f"{API}/events/{events[0]}/approve", headers=luojia)
    assert again.status_code == 409 and again.get_json()["errors"][0]["code"] == "reviewed"
    result = score(client, shenli, member_id)
    assert (result["score"], result["stars"], result["vetoed"]) == (89.9, 3, False)
    detail = client.get(f"{API}/events/{events[0]}", headers=shenli).get_json()
    assert [(h["actor"], h["action"]) for h in detail["history"]] == [("shenli", "proposed"), ("luojia", "approved")]


@sqlite_only
def test_reject_needs_a_reason_and_does_not_count(client, bearer):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli)
    event_id = propose(client, shenli, member_id, "study", 10)
    response = client.post(f"{API}/events/{event_id}/reject", headers=luojia, json={})
    assert response.status_code == 422 and _codes(response.get_json()) == {"/comment": "required"}
    assert client.post(f"{API}/events/{event_id}/reject", headers=luojia,
                       json={"comment": "缺少签到记录"}).status_code == 200
    assert score(client, shenli, member_id)["score"] == 0
    assert client.post(f"{API}/events/{event_id}/approve", headers=luojia).status_code == 409


@sqlite_only
def test_event_validation(client, bearer):
    shenli = bearer("shenli")
    member_id = new_member(client, shenli)
    url = f"{API}/members/{member_id}/events"

    def post(**body):
        data = {"indicator": "study", "points": 5, "reason": "学习", "period": PERIOD, **body}
        response = client.post(url, headers=shenli, json=data)
        assert response.status_code == 422, response.get_data(as_text=True)
        return _codes(response.get_json())

    assert post(points=25) == {"/points": "maximum"}
    assert post(points=0) == {"/points": "exclusiveMinimum"}
    assert post(points=1.234) == {"/points": "multipleOf"}
    assert post(indicator="discipline", points=3) == {"/points": "const"}
    assert post(indicator="nothing") == {"/indicator": "enum"}
    assert post(period="2026-13") == {"/period": "format"}
    assert post(period=f"{YEAR + 1}-01") == {"/period": "range"}
    assert post(reason="") == {"/reason": "minLength"}
    assert client.post(url, headers=shenli, data="x", content_type="text/plain").status_code == 415
    assert client.get(f"{API}/members/{member_id}/score?year=abc", headers=shenli).status_code == 422


def test_veto_gives_no_star_and_bonus_clip_is_noted(client, bearer):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli)
    for code, points in [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("honours", 10),
                         ("double_report", 10)]:
        approve(client, luojia, propose(client, shenli, member_id, code, points))
    result = score(client, shenli, member_id)
    assert (result["score"], result["stars"]) == (80, 3)
    assert "加分合计 20 分，超过加分上限 10 分，按 10 分计" in result["notes"]
    approve(client, luojia, propose(client, shenli, member_id, "discipline", 0, reason="受到党内警告处分"))
    result = score(client, shenli, member_id)
    assert (result["score"], result["stars"], result["vetoed"]) == (80, 0, True)


@sqlite_only
def test_a_member_sees_and_proposes_for_themself(client, bearer):
    member_id = new_member(client, bearer("shenli"), username="zhangmin")  # a grid worker who is a member
    zhangmin = bearer("zhangmin")
    assert client.get(f"{API}/members/{member_id}/score", headers=zhangmin).status_code == 200
    event_id = propose(client, zhangmin, member_id, "service", 5, reason="帮助独居老人买菜")
    assert client.get(f"{API}/events/{event_id}", headers=zhangmin).get_json()["source"] == "member"
    approve(client, bearer("shenli"), event_id)
    assert score(client, zhangmin, member_id)["score"] == 5


def test_sets_are_versioned_per_unit_and_inherited(client, bearer):
    admin, shenli = bearer("admin"), bearer("shenli")
    assert client.post(f"{API}/sets", headers=shenli, json={"org": LANYUE}).status_code == 403
    draft = client.post(f"{API}/sets", headers=admin, json={"org": "339901001"}).get_json()  # 澄湖街道
    assert draft["status"] == "draft" and draft["version"] == 1
    rows = [{k: i[k] for k in ("code", "name", "kind", "max_points")} for i in draft["indicators"]]
    rows[0]["max_points"] = 30  # basic total would be 110
    bad = client.patch(f"{API}/sets/{draft['id']}", headers=admin, json={"indicators": rows})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/indicators"
    bad = client.patch(f"{API}/sets/{draft['id']}", headers=admin, json={"bands": [60, 70, 65, 90, 96]})
    assert _codes(bad.get_json()) == {"/bands": "bands"}
    rows[0]["max_points"] = 20
    rows.append({"code": "street_bonus", "name": "街道专项", "kind": "bonus", "max_points": 5})
    edited = client.patch(f"{API}/sets/{draft['id']}", headers=admin,
                          json={"indicators": rows, "bands": [50, 60, 70, 80, 90]})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    # Not in force before it is published.
    codes = {i["code"] for i in client.get(f"{API}/indicators?org={LANYUE}", headers=shenli).get_json()}
    assert "street_bonus" not in codes
    published = client.post(f"{API}/sets/{draft['id']}/publish", headers=admin, json={"effective_from": f"{YEAR}-01-01"})
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    assert client.patch(f"{API}/sets/{draft['id']}", headers=admin, json={"bonus_cap": 5}).status_code == 409
    # 揽月 (under 澄湖街道) inherits the street's version; 石溪村 keeps the default.
    codes = {i["code"] for i in client.get(f"{API}/indicators?org={LANYUE}", headers=shenli).get_json()}
    assert "street_bonus" in codes
    codes = {i["code"] for i in client.get(f"{API}/indicators?org=339901100201", headers=shenli).get_json()}
    assert "street_bonus" not in codes
    # The year is scored with the street's bands: 50 → ★.
    member_id = new_member(client, shenli, id_card=id_card("33990119900202123"))
    for code, points in [("study", 20), ("org_life", 20), ("dues", 10)]:
        approve(client, bearer("luojia"), propose(client, shenli, member_id, code, points))
    assert score(client, shenli, member_id)["stars"] == 1
    # Last year still used the default (the street's version took effect this year).
    assert {i["code"] for i in client.get(f"{API}/indicators?org={LANYUE}&year={YEAR - 1}",
                                          headers=shenli).get_json()} >= {"study"}
    assert "street_bonus" not in {i["code"] for i in client.get(
        f"{API}/indicators?org={LANYUE}&year={YEAR - 1}", headers=shenli).get_json()}


def test_two_reviewers_at_once_one_decision_wins(app, client, bearer):
    """Real threads: the conditional update lets exactly one decision through."""
    import threading

    shenli, luojia, admin = bearer("shenli"), bearer("luojia"), bearer("admin")
    member_id = new_member(client, shenli)
    event_id = propose(client, admin, member_id, "study", 10)
    barrier, results = threading.Barrier(2), []

    def decide(headers, action, body):
        local = app.test_client()
        barrier.wait()
        results.append(local.post(f"{API}/events/{event_id}/{action}", headers=headers, json=body).status_code)

    threads = [threading.Thread(target=decide, args=(shenli, "approve", {})),
               threading.Thread(target=decide, args=(luojia, "reject", {"comment": "材料不全"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 409]
    detail = client.get(f"{API}/events/{event_id}", headers=shenli).get_json()
    assert [h["action"] for h in detail["history"]] == ["proposed", detail["status"]]
