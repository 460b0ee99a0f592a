"""Households and people: ID numbers checked by GB 11643 (valid and invalid vectors, X check
character), move-in/move-out history never overwritten, masking, scope by grid, care tags,
rentals, and the special groups behind their own permission with every view audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.privacy import audit_history
from fengqiao.sdk.web import id_card_problem
from grid_helpers import id_card, id_card_ending_x, with_wrong_check

from fengqiao_grid.models import GridHousehold, GridPerson, GridResidence

pytestmark = pytest.mark.plugins("grid")
PEOPLE = "/api/v1/p/grid/people"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_id_card_vectors():
    good, x = id_card(7), id_card_ending_x()
    assert x.endswith("X") and id_card_problem(x) is None and id_card_problem(good) is None
    assert id_card_problem(with_wrong_check(good)) == "身份证号码校验位不正确"
    assert id_card_problem(x[:17] + "0") == "身份证号码校验位不正确"
    assert id_card_problem(x.lower()) == "身份证号码应为 18 位"  # normalise (upper-case) first
    assert id_card_problem(good[:17]) == "身份证号码应为 18 位"
    assert id_card_problem("３" + good[1:]) == "身份证号码应为 18 位"  # full-width digit
    assert id_card_problem(id_card(7, born="19800230")) == "身份证号码中的出生日期无效"
    assert id_card_problem(id_card(7, born="21000101")) == "身份证号码中的出生日期无效"  # in the future
    assert id_card_problem(id_card(7, region="990101")) == "身份证号码前 6 位地区码无效"  # no province 99
    assert id_card_problem(id_card(7, region="330000")) == "身份证号码前 6 位地区码无效"  # a province, not an area
    assert id_card_problem(id_card(7, region="110105")) is None
    assert id_card_problem(id_card(7, region="810000")) is None  # 港澳台居民居住证 (Hong Kong)
    assert id_card_problem(id_card(7, region="830000")) is None  # (Taiwan)


def test_registering_a_person_checks_the_id_number_and_masks_them(app, client, bearer, estate):
    room = estate["幸福小区3幢1单元602室"]
    body = {"address": room, "name": "张三丰", "relation": "head", "residence_type": "registered"}
    bad = client.post(PEOPLE, json={**body, "id_card": with_wrong_check(id_card(3))}, headers=bearer("zhangmin"))
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == [{"pointer": "/id_card", "message": "身份证号码校验位不正确", "code": "id_card"}]
    number = id_card_ending_x()
    made = client.post(PEOPLE, json={**body, "id_card": number.lower(), "mobile": "13912345678"},
                       headers=bearer("zhangmin"))
    assert made.status_code == 201 and set(made.get_json()) == {"id"}
    shown = client.get(f"{PEOPLE}/{made.get_json()['id']}", headers=bearer("zhangmin"))
    info, text = shown.get_json(), shown.get_data(as_text=True)
    assert info["name"] == "张**" and info["id_card"] == number[:6] + "*" * 8 + number[14:]
    assert info["mobile"] == "139****5678" and info["gender"] == ("男" if int(number[16]) % 2 else "女")
    assert number not in text and "张三丰" not in text and "13912345678" not in text
    assert info["address"]["label"] == "幸福小区3幢1单元602室" and info["relation"] == "head"
    with app.app_context():
        assert db.scalar(sa.select(GridPerson.id_card)) == number  # stored upper-case
    again = client.post(PEOPLE, json={**body, "id_card": number, "relation": "spouse"}, headers=bearer("zhangmin"))
    assert again.status_code == 409  # already living in this household
    elsewhere = client.post(PEOPLE, json={**body, "id_card": number, "address": estate["幸福小区3幢2单元101室"]},
                            headers=bearer("zhangmin"))
    assert elsewhere.status_code == 409  # or in another: move out first
    assert "幸福小区3幢1单元602室" in elsewhere.get_json()["errors"][0]["message"]
    second_head = client.post(PEOPLE, json={**body, "id_card": id_card(5)}, headers=bearer("zhangmin"))
    assert second_head.status_code == 422 and second_head.get_json()["errors"][0]["pointer"] == "/relation"


@SQLITE
def test_field_problems_are_reported_together(client, bearer, estate):
    room = estate["幸福小区3幢1单元101室"]
    bad = client.post(PEOPLE, headers=bearer("zhangmin"), json={
        "address": room, "name": "", "id_card": id_card(1, born="19800230"), "relation": "boss",
        "residence_type": "x", "mobile": "123", "moved_in": "2999-01-01"})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} == {"/name", "/id_card", "/relation", "/residence_type",
                                                                "/mobile", "/moved_in"}
    building = client.get("/api/v1/p/grid/addresses?q=幸福小区3幢1单元&kind=entrance",
                           headers=bearer("zhangmin")).get_json()["items"][0]["id"]
    not_room = client.post(PEOPLE, headers=bearer("zhangmin"), json={
        "address": building, "name": "李四", "id_card": id_card(9), "relation": "head", "residence_type": "resident"})
    assert not_room.status_code == 422 and not_room.get_json()["errors"][0]["pointer"] == "/address"


def test_move_out_and_in_keep_the_history(app, client, bearer, estate, add_person):
    first, second = estate["幸福小区3幢1单元101室"], estate["幸福小区3幢2单元502室"]
    person = add_person(first, moved_in="2020-05-01")
    early = client.post(f"{PEOPLE}/{person}/move-out", json={"moved_out": "2019-01-01"}, headers=bearer("zhangmin"))
    assert early.status_code == 422 and early.get_json()["errors"][0]["pointer"] == "/moved_out"
    busy = client.post(f"{PEOPLE}/{person}/move-in", json={"address": second, "relation": "head",
                                                           "residence_type": "resident"}, headers=bearer("zhangmin"))
    assert busy.status_code == 409  # still living at the first room
    out = client.post(f"{PEOPLE}/{person}/move-out", json={"moved_out": "2024-03-01", "reason": "搬家"},
                      headers=bearer("zhangmin"))
    assert out.status_code == 200 and out.get_json()["resident"] is False
    twice = client.post(f"{PEOPLE}/{person}/move-out", json={"moved_out": "2024-04-01"}, headers=bearer("zhangmin"))
    assert twice.status_code == 409
    moved_in = client.post(f"{PEOPLE}/{person}/move-in", headers=bearer("zhangmin"), json={
        "address": second, "relation": "head", "residence_type": "renting", "moved_in": "2024-03-02"})
    assert moved_in.status_code == 200, moved_in.get_json()
    stays = moved_in.get_json()["residences"]
    assert [(s["label"], s["moved_in"], s["moved_out"], s["reason"]) for s in stays] == [
        ("幸福小区3幢2单元502室", "2024-03-02", None, ""),
        ("幸福小区3幢1单元101室", "2020-05-01", "2024-03-01", "搬家")]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridResidence)) == 2
        old = db.scalar(sa.select(GridHousehold).where(GridHousehold.address_id == first))
        assert old.head_person_id is None  # the head moved out
    # A new head may now register at the first room; the rooms show who lives there now.
    add_person(first, name="李建国")
    rooms = {room: client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer("zhangmin")).get_json()["household"]
             for room in (first, second)}
    assert [(m["name"], m["relation"]) for m in rooms[first]["members"]] == [("李**", "head")]
    assert [(m["id"], m["residence_type"], m["moved_in"]) for m in rooms[second]["members"]] == [
        (person, "renting", "2024-03-02")]


@SQLITE
def test_care_tags_and_rental(app, client, bearer, estate, add_person):
    room = estate["幸福小区3幢1单元201室"]
    person = add_person(room, care_tags=["alone_elderly"])
    tagged = client.post(f"{PEOPLE}/{person}/care", json={"care_tags": ["alone_elderly", "low_income"]},
                         headers=bearer("zhangmin"))
    assert tagged.get_json()["care_tags"] == ["alone_elderly", "low_income"]
    assert client.post(f"{PEOPLE}/{person}/care", json={"care_tags": ["vip"]},
                       headers=bearer("zhangmin")).status_code == 422
    with app.app_context():
        assert audit_history(f"grid-person:{person}")[0].action == "grid.care_tags"
    household = client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer("zhangmin")).get_json()["household"]
    rented = client.post(f"/api/v1/p/grid/households/{household['id']}/rental", headers=bearer("zhangmin"),
                         json={"rented": True, "landlord_name": "赵德胜", "landlord_mobile": "13700001111"})
    assert rented.status_code == 200
    shown = client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer("zhangmin")).get_json()["household"]
    assert (shown["rented"], shown["landlord_name"], shown["landlord_mobile"]) == (True, "赵**", "137****1111")
    assert client.post(f"/api/v1/p/grid/households/{household['id']}/rental", json={"rented": True},
                       headers=bearer("zhangmin")).status_code == 422  # the landlord is required
    assert client.post(f"/api/v1/p/grid/households/{household['id']}/rental", json={"rented": False},
                       headers=bearer("hanzhiming")).status_code == 404


def test_scope_worker_community_and_other_community(client, bearer, estate, add_person):
    room = estate["幸福小区3幢1单元301室"]
    person = add_person(room)
    for who, status in (("zhangmin", 200), ("shenli", 200), ("gaojie", 200), ("liuyang", 404),
                        ("hanzhiming", 404), ("chenjing", 404)):
        assert client.get(f"{PEOPLE}/{person}", headers=bearer(who)).status_code == status, who
    # Writes are scoped like reads: the object in the path or the body is a 404.
    assert client.post(f"{PEOPLE}/{person}/move-out", json={"moved_out": "2024-01-01"},
                       headers=bearer("hanzhiming")).status_code == 404
    other = client.post(PEOPLE, headers=bearer("chenjing"), json={
        "address": room, "name": "陈某", "id_card": id_card(11), "relation": "tenant", "residence_type": "floating"})
    assert other.status_code == 404 and other.get_json()["errors"][0]["pointer"] == "/address"
    assert client.get(f"{PEOPLE}/{person}", headers=bearer("zhifa")).status_code == 403  # no grid permission


def test_special_groups_need_their_permission_and_every_view_is_audited(app, client, bearer, estate, add_person):
    person = add_person(estate["幸福小区3幢1单元401室"])
    url = f"{PEOPLE}/{person}/special"
    assert client.get(url, headers=bearer("zhangmin")).status_code == 403  # grid workers: no special permission
    assert client.get(url, headers=bearer("admin")).status_code == 403  # nor the system administrator
    assert client.get(f"{PEOPLE}/{person}", headers=bearer("admin")).status_code == 200  # who sees the rest
    assert client.post(url, json={"group": "correction"}, headers=bearer("shenli")).status_code == 403
    made = client.post(url, json={"group": "correction", "note": "联系电话 13812345678"}, headers=bearer("gaojie"))
    assert made.status_code == 201
    seen = client.get(url, headers=bearer("gaojie")).get_json()["items"]
    assert [(r["group"], r["group_label"]) for r in seen] == [("correction", "社区矫正")]
    assert "13812345678" not in seen[0]["note"]  # masked
    assert client.get(url, headers=bearer("zhoujian")).status_code == 200  # the street's leader
    person_view = client.get(f"{PEOPLE}/{person}", headers=bearer("gaojie")).get_data(as_text=True)
    assert "correction" not in person_view and "社区矫正" not in person_view
    with app.app_context():
        rows = audit_history(f"grid-person:{person}")
        assert [(r.action, r.actor) for r in rows] == [("grid.special_view", "zhoujian"),
                                                       ("grid.special_view", "gaojie"),
                                                       ("grid.special_add", "gaojie")]
        assert all("13812345678" not in str(r.detail) for r in rows)
