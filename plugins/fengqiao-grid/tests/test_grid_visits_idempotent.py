"""``Idempotency-Key`` on ``POST /api/v1/p/grid/visits`` (``fengqiao.sdk.web.idempotent``): a
phone's 待上传 queue that sends a visit again after a lost answer records one visit and spawns
one case; the same key with another body is refused; a key is its caller's own; a refused
visit stores no key, so the fixed one may be sent with it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from test_grid_visits import ROOM, VISITS, b64, png

from fengqiao_grid.models_visits import GridVisit

pytestmark = pytest.mark.plugins("grid")
KEY = "3f1c9a52-2b7e-4d0a-9c1e-7a4b8d2e6f10"


def _count(app, **where) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(GridVisit.id)).filter_by(**where))


def _cases(client, bearer) -> list[str]:
    items = client.get("/api/v1/cases?state=reported", headers=bearer("shenli")).get_json()["items"]
    return [c["number"] for c in items]


def test_a_resent_visit_replays_the_first_answer(app, client, bearer, estate):
    room = estate[ROOM]
    body = {"address": room, "purpose": "safety_check", "findings": "楼道堆放纸箱", "spawn_case": True,
            "photos": [b64(png())]}
    headers = {**bearer("zhangmin"), "Idempotency-Key": KEY}
    first = client.post(VISITS, headers=headers, json=body)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(VISITS, headers=headers, json=dict(reversed(list(body.items()))))  # same content
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _count(app, address_id=room) == 1
    number = first.get_json()["case_number"]
    assert _cases(client, bearer).count(number) == 1 and len(set(_cases(client, bearer))) == len(_cases(client, bearer))
    # without a key every post records (the route works as before)
    assert client.post(VISITS, headers=bearer("zhangmin"), json={"address": room, "purpose": "home_visit"}).status_code == 201
    assert client.post(VISITS, headers=bearer("zhangmin"), json={"address": room, "purpose": "home_visit"}).status_code == 201
    assert _count(app, address_id=room) == 3


def test_the_same_key_with_another_body_is_refused(app, client, bearer, estate):
    room = estate[ROOM]
    headers = {**bearer("zhangmin"), "Idempotency-Key": KEY}
    assert client.post(VISITS, headers=headers, json={"address": room, "purpose": "home_visit"}).status_code == 201
    other = client.post(VISITS, headers=headers, json={"address": room, "purpose": "safety_check"})
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["pointer"] == "/Idempotency-Key"
    assert other.get_json()["errors"][0]["code"] == "idempotency_mismatch"
    assert "新的 Idempotency-Key" in other.get_json()["errors"][0]["message"]
    assert _count(app, address_id=room) == 1
    too_long = client.post(VISITS, headers={**bearer("zhangmin"), "Idempotency-Key": "k" * 129},
                           json={"address": room, "purpose": "home_visit"})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["pointer"] == "/Idempotency-Key"
    assert _count(app, address_id=room) == 1


def test_a_key_is_its_callers_own(app, client, bearer, estate):
    """The same key from another worker of the grid is a key of theirs: a visit of its own."""
    room = estate[ROOM]
    body = {"address": room, "purpose": "home_visit", "findings": "老人身体好"}
    mine = client.post(VISITS, headers={**bearer("zhangmin"), "Idempotency-Key": KEY}, json=body)
    theirs = client.post(VISITS, headers={**bearer("shenli"), "Idempotency-Key": KEY}, json=body)
    assert mine.status_code == 201 and theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert _count(app, address_id=room, worker="zhangmin") == 1 and _count(app, address_id=room, worker="shenli") == 1


def test_a_refused_visit_keeps_no_key(app, client, bearer, estate):
    """422 is not kept: the worker fixes the visit and sends it (here with the same key)."""
    room = estate[ROOM]
    headers = {**bearer("zhangmin"), "Idempotency-Key": KEY}
    refused = client.post(VISITS, headers=headers, json={"address": room, "purpose": "home_visit", "spawn_case": True})
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.get_json()["errors"]] == ["/findings"]
    fixed = client.post(VISITS, headers=headers, json={"address": room, "purpose": "home_visit", "spawn_case": True,
                                                      "findings": "独居老人家中燃气灶老化"})
    assert fixed.status_code == 201 and fixed.get_json()["case_number"]
    assert _count(app, address_id=room) == 1
    # another grid's address is the uniform 404, and it keeps no key either
    gone = client.post(VISITS, headers={**bearer("liuyang"), "Idempotency-Key": KEY},
                       json={"address": room, "purpose": "home_visit"})
    assert gone.status_code == 404


def test_concurrent_sends_of_one_key_record_once(app, client, bearer, estate):
    """A phone whose Background Sync and open page send the same item at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    room = estate[ROOM]
    headers = {**bearer("zhangmin"), "Idempotency-Key": KEY}
    body = {"address": room, "purpose": "safety_check", "findings": "电动车楼道充电", "spawn_case": True}

    def send(_):
        answer = app.test_client().post(VISITS, headers=headers, json=body)
        return answer.status_code, answer.get_json()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201], answers
    assert len({json["case_number"] for _, json in answers}) == 1
    assert _count(app, address_id=room) == 1
    assert len(set(_cases(client, bearer))) == len(_cases(client, bearer))
