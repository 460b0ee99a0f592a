"""``Idempotency-Key`` is scoped to its caller (the signed-in user, or the anonymous client's
address) and the form, and remembers a hash of the request: a key seen before answers the
earlier case only to the same caller, on the same form, with the same body. Anyone else gets
their own case; the same caller with a different body gets 422. Never another person's case
(issue 17: an anonymous POST to another form with someone else's key returned their case
number and tracking code)."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case

URL = "/api/v1/forms/{}/submissions"
REQUEST = {"request_type": "complaint", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
           "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福", "caller_mobile": "13800138000"}
KEY = {"Idempotency-Key": "kiosk-7-20261126-0001"}
VICTIM, ATTACKER = {"REMOTE_ADDR": "10.1.1.1"}, {"REMOTE_ADDR": "10.2.2.2"}


def _post(client, form, body, headers=None, environ=None, query=""):
    return client.post(URL.format(form) + query, json=body, headers={**KEY, **(headers or {})},
                       environ_base=environ or VICTIM)


def _cases(app) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(Case.id)))


def test_the_same_caller_replays_its_own_case(client, demo):
    first = _post(client, "livelihood-request", REQUEST)
    again = _post(client, "livelihood-request", REQUEST)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json() and _cases(demo) == 1


def test_another_form_never_answers_with_someone_elses_case(client, demo):
    victim = _post(client, "livelihood-request", REQUEST).get_json()
    for environ in (ATTACKER, VICTIM):  # another client, or the same address (a shared NAT)
        response = _post(client, "proxy-service", {}, environ=environ)
        assert response.status_code == 422, response.get_json()
        text = response.get_data(as_text=True)
        assert victim["case_number"] not in text and victim["tracking_code"] not in text
    assert _cases(demo) == 1


def test_another_anonymous_client_gets_its_own_case(client, demo):
    victim = _post(client, "livelihood-request", REQUEST).get_json()
    other = _post(client, "livelihood-request", REQUEST, environ=ATTACKER)
    assert other.status_code == 201
    assert other.get_json()["case_number"] != victim["case_number"]
    assert other.get_json()["tracking_code"] != victim["tracking_code"]
    assert _cases(demo) == 2


def test_a_different_body_under_the_same_key_is_422(client, demo):
    victim = _post(client, "livelihood-request", REQUEST).get_json()
    for changed, query in (({**REQUEST, "summary": "另一件事"}, ""), (REQUEST, "?org=339901001001")):
        response = _post(client, "livelihood-request", changed, query=query)
        assert response.status_code == 422
        (error,) = response.get_json()["errors"]
        assert error["code"] == "idempotency_mismatch" and error["pointer"] == "/Idempotency-Key"
        assert "Idempotency-Key" in error["message"] and victim["case_number"] not in response.get_data(as_text=True)
    assert _cases(demo) == 1


def test_signed_in_callers_are_scoped_by_user_not_address(client, demo, bearer):
    zhangmin, shenli = bearer("zhangmin"), bearer("shenli")
    mine = _post(client, "livelihood-request", REQUEST, headers=zhangmin)
    assert mine.status_code == 201
    # the same user from another address (a phone that changed networks) replays
    moved = _post(client, "livelihood-request", REQUEST, headers=zhangmin, environ=ATTACKER)
    assert moved.status_code == 200 and moved.get_json() == mine.get_json()
    # another user, or an anonymous caller at the same address, does not
    theirs = _post(client, "livelihood-request", REQUEST, headers=shenli)
    anonymous = _post(client, "livelihood-request", REQUEST)
    assert theirs.status_code == 201 and anonymous.status_code == 201
    numbers = {r.get_json()["case_number"] for r in (mine, theirs, anonymous)}
    assert len(numbers) == 3 and _cases(demo) == 3
