"""Published forms and submissions over the API: the bad-input battery stores nothing."""

from __future__ import annotations

import re
import unicodedata

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case, Submission

GOOD_REQUEST = {
    "request_type": "complaint",
    "summary": "湖滨路烧烤店夜间油烟噪音扰民",
    "content": "每晚十点后油烟和噪音很大。",
    "caller_name": "陈德福",
    "caller_mobile": "13800138000",
    "id_card": "339901195203140111",
}
PARTY = {"name": "钱芳", "role": "申请人"}
GOOD_DISPUTE = {
    "dispute_type": "邻里纠纷",
    "summary": "楼上漏水致楼下吊顶受损",
    "facts": "李志刚家卫生间漏水，钱芳家吊顶受损。",
    "risk_level": "low",
    "parties": [PARTY, {"name": "李志刚", "role": "被申请人"}],
    "all_parties_agree": True,
}


def _errors(response) -> dict[str, str]:
    body = response.get_json()
    assert set(body) == {"errors"}, body
    return {e["pointer"]: e["code"] for e in body["errors"]}


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.scalar(sa.select(sa.func.count(Case.id))),
                db.scalar(sa.select(sa.func.count(Submission.id))))


def test_anonymous_sees_public_forms_only(client, demo, bearer):
    anonymous = {f["key"]: f for f in client.get("/api/v1/forms").get_json()}
    assert set(anonymous) == {"livelihood-request", "proxy-service"}
    assert anonymous["livelihood-request"] == {
        "key": "livelihood-request", "title": "民生诉求", "version": 1, "access": "public"}
    staff = {f["key"] for f in client.get("/api/v1/forms", headers=bearer("zhangmin")).get_json()}
    assert staff == {"livelihood-request", "proxy-service", "grid-incident", "dispute-registration",
                     "whistle-request"}


def test_form_detail_and_versions(client, demo):
    body = client.get("/api/v1/forms/livelihood-request").get_json()
    assert body["version"] == 1 and body["schema"]["type"] == "object" and "order" in body["ui"]
    assert client.get("/api/v1/forms/livelihood-request?version=1").status_code == 200
    assert client.get("/api/v1/forms/livelihood-request?version=9").status_code == 404
    assert client.get("/api/v1/forms/livelihood-request?version=x").status_code == 422
    assert client.get("/api/v1/forms/no-such-form").status_code == 404
    assert client.get("/api/v1/forms/grid-incident").status_code == 401


def test_submission_opens_a_case(client, demo, bearer):
    response = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST)
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"GD-\d{8}-000001", body["case_number"])
    assert re.fullmatch(r"[2-9A-Z]{8}", body["tracking_code"])
    detail = client.get(f"/api/v1/cases/{body['case_number']}", headers=bearer("ducha")).get_json()
    assert detail["form_key"] == "livelihood-request" and detail["form_version"] == 1
    assert detail["org"] == "339901901" and detail["state"] == "received"  # the form's accepting unit (12345)
    assert detail["data"]["summary"] == GOOD_REQUEST["summary"]
    # personal data is masked in details for every role
    assert detail["data"]["id_card"] == "339901********0111"
    assert detail["data"]["caller_mobile"] == "138****8000"


def test_submission_to_a_chosen_community(client, demo, bearer):
    response = client.post("/api/v1/forms/livelihood-request/submissions?org=339901001001", json=GOOD_REQUEST)
    number = response.get_json()["case_number"]
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).status_code == 200
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("hanzhiming")).status_code == 404
    bad_org = client.post("/api/v1/forms/livelihood-request/submissions?org=nowhere", json=GOOD_REQUEST)
    assert bad_org.status_code == 422 and _errors(bad_org) == {"/org": "unknown_org"}


BATTERY = [
    ("livelihood-request", {k: v for k, v in GOOD_REQUEST.items() if k != "summary"}, {"/summary": "required"}),
    ("livelihood-request", {**GOOD_REQUEST, "summary": 42}, {"/summary": "type"}),
    ("livelihood-request", {**GOOD_REQUEST, "id_card": "339901195203140112"}, {"/id_card": "format"}),
    ("livelihood-request", {**GOOD_REQUEST, "caller_mobile": "12345"}, {"/caller_mobile": "format"}),
    ("livelihood-request", {**GOOD_REQUEST, "external_number": "GD-2503-119305"}, {"/received_at": "dependentRequired"}),
    ("livelihood-request", {**GOOD_REQUEST, "is_admin": True}, {"/is_admin": "additionalProperties"}),
    ("livelihood-request", {**GOOD_REQUEST, "summary": "长" * 10_000}, {"/summary": "maxLength"}),
    ("livelihood-request", {**GOOD_REQUEST, "request_type": "bribe"}, {"/request_type": "enum"}),
    ("dispute-registration", {**GOOD_DISPUTE, "parties": [PARTY]}, {"/parties": "minItems"}),
    ("dispute-registration", {**GOOD_DISPUTE, "parties": [PARTY] * 21}, {"/parties": "maxItems"}),
    ("dispute-registration", {**GOOD_DISPUTE, "all_parties_agree": False}, {"/refusal_note": "required"}),
    ("dispute-registration", {**GOOD_DISPUTE, "parties": [PARTY, {"role": "被申请人"}]}, {"/parties/1/name": "required"}),
    ("dispute-registration", {**GOOD_DISPUTE, "headcount": "两个"}, {"/headcount": "type"}),
]


@pytest.mark.parametrize(("key", "data", "expected"), BATTERY, ids=[f"{i}-{b[0]}" for i, b in enumerate(BATTERY)])
def test_bad_input_battery(client, demo, bearer, key, data, expected):
    headers = bearer("shenli") if key == "dispute-registration" else {}
    response = client.post(f"/api/v1/forms/{key}/submissions", json=data, headers=headers)
    assert response.status_code == 422, response.get_json()
    errors = _errors(response)
    for pointer, code in expected.items():
        assert errors.get(pointer) == code, errors
    messages = [e["message"] for e in response.get_json()["errors"]]
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in messages), messages
    assert _counts(demo) == (0, 0)


def test_chinese_messages_residents_understand(client, demo):
    bad = client.post("/api/v1/forms/livelihood-request/submissions",
                      json={**GOOD_REQUEST, "id_card": "339901195203140112", "caller_mobile": "1380013800"})
    messages = {e["pointer"]: e["message"] for e in bad.get_json()["errors"]}
    assert messages == {"/id_card": "身份证号码校验位不正确", "/caller_mobile": "请输入 11 位手机号码"}
    missing = client.post("/api/v1/forms/livelihood-request/submissions", json={})
    assert {e["message"] for e in missing.get_json()["errors"]} == {"此项为必填项"}


def test_transport_errors(client, demo):
    url = "/api/v1/forms/livelihood-request/submissions"
    assert client.post(url, data="request_type=consult").status_code == 415
    assert client.post(url, data="{oops", content_type="application/json").status_code == 400
    huge = client.post(url, data='{"content": "' + "x" * (1024 * 1024) + '"}', content_type="application/json")
    assert huge.status_code == 413
    assert client.post(url, json=["not", "an", "object"]).status_code == 422
    assert client.post("/api/v1/forms/nope/submissions", json={}).status_code == 404
    assert _counts(demo) == (0, 0)


def test_staff_forms_need_a_staff_caller(client, demo, bearer):
    assert client.post("/api/v1/forms/dispute-registration/submissions", json=GOOD_DISPUTE).status_code == 401
    ok = client.post("/api/v1/forms/dispute-registration/submissions", json=GOOD_DISPUTE, headers=bearer("fengguoping"))
    assert ok.status_code == 201 and ok.get_json()["case_number"].startswith("TJ-")
    # a staff submission belongs to the submitter's unit
    detail = client.get(f"/api/v1/cases/{ok.get_json()['case_number']}", headers=bearer("fengguoping")).get_json()
    assert detail["org"] == "339901100201"


def test_rare_characters_and_emoji_round_trip(client, demo, bearer):
    text = "𠀀𪚥𰻞𰻞面 😀 e\u0301"  # CJK extension B/G characters, emoji, a decomposed é
    response = client.post("/api/v1/forms/livelihood-request/submissions", json={**GOOD_REQUEST, "content": text})
    number = response.get_json()["case_number"]
    data = client.get(f"/api/v1/cases/{number}", headers=bearer("ducha")).get_json()["data"]
    assert data["content"] == unicodedata.normalize("NFC", text)
    assert "𪚥" in data["content"] and "😀" in data["content"] and "é" in data["content"]


def test_trimmed_where_the_definition_says(client, demo, bearer):
    response = client.post("/api/v1/forms/livelihood-request/submissions",
                           json={**GOOD_REQUEST, "summary": "  路灯不亮  ", "caller_mobile": " 13800138000 "})
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["case_number"]
    data = client.get(f"/api/v1/cases/{number}", headers=bearer("ducha")).get_json()["data"]
    assert data["summary"] == "路灯不亮"


def test_idempotency_key_gives_one_case(client, demo):
    headers = {"Idempotency-Key": "kiosk-7-20261126-0001"}
    first = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST, headers=headers)
    second = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json() == second.get_json()
    assert _counts(demo) == (1, 1)


def test_archived_form_refuses_with_a_clear_message(client, demo):
    from fengqiao.forms import store

    with demo.app_context():
        store.set_archived(store.get_form("livelihood-request"), True)
        db.commit()
    response = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST)
    assert response.status_code == 410
    assert "已停用" in response.get_json()["errors"][0]["message"]
    assert "livelihood-request" not in {f["key"] for f in client.get("/api/v1/forms").get_json()}


@pytest.mark.parametrize("app_config", [{"rate_limits": {"public_submit": "3/minute"}}])
def test_anonymous_submissions_are_rate_limited(client, demo, bearer, app_config):
    url = "/api/v1/forms/livelihood-request/submissions"
    statuses = [client.post(url, json=GOOD_REQUEST).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert client.post(url, json=GOOD_REQUEST).get_json()["errors"][0]["code"] == "rate_limited"
    # staff pushing in bulk are not limited
    staff = bearer("luojia")
    assert all(client.post(url, json=GOOD_REQUEST, headers=staff).status_code == 201 for _ in range(4))
