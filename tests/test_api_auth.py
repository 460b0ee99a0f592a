"""Tokens, the one error shape, and bad input that must never become a 500."""

from __future__ import annotations

from fengqiao.demo_data import DEMO_PASSWORD


def _errors(response):
    body = response.get_json()
    assert set(body) == {"errors"}, body
    for err in body["errors"]:
        assert set(err) == {"pointer", "message", "code"}
    return body["errors"]


def test_token_then_bearer_access(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "shenli", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    token = response.get_json()["token"]
    listed = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert listed.get_json() == {"items": [], "next_cursor": None}
    assert "Set-Cookie" not in listed.headers  # bearer requests stay stateless


def test_wrong_password_is_401_with_error_shape(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "shenli", "password": "nope12345"})
    assert response.status_code == 401
    [err] = _errors(response)
    assert err["message"] == "用户名或密码错误"
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope12345"})
    assert unknown.status_code == 401 and _errors(unknown)[0]["message"] == "用户名或密码错误"


def test_unauthenticated_api_is_401_json_not_redirect(client, demo):
    for path in ["/api/v1/cases", "/api/v1/orgs", "/api/v1/users", "/api/v1/cases/X-1"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.is_json
        assert _errors(response)[0]["code"] == "unauthorized"


def test_invalid_token_is_401(client, demo):
    response = client.get("/api/v1/cases", headers={"Authorization": "Bearer fq_forged"})
    assert response.status_code == 401
    assert _errors(response)[0]["code"] == "invalid_token"


def test_bad_bodies_are_clear_4xx(client, demo):
    malformed = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert malformed.status_code == 400 and _errors(malformed)[0]["code"] == "invalid_json"

    form_encoded = client.post("/api/v1/auth/token", data={"username": "a", "password": "b"})
    assert form_encoded.status_code == 415 and _errors(form_encoded)

    missing = client.post("/api/v1/auth/token", json={"username": "shenli"})
    assert missing.status_code == 422
    assert _errors(missing) == [{"pointer": "/password", "message": "此项为必填项", "code": "required"}]

    too_long = client.post("/api/v1/auth/token", json={"username": "x" * 10_000, "password": "p"})
    assert too_long.status_code == 422
    assert _errors(too_long) == [{"pointer": "/username", "message": "最多填写 64 个字符", "code": "maxLength"}]

    extra = client.post("/api/v1/auth/token", json={"username": "a", "password": "b", "admin": True})
    assert extra.status_code == 422
    assert _errors(extra)[0] == {"pointer": "/admin", "message": "不允许的字段", "code": "additionalProperties"}

    wrong_type = client.post("/api/v1/auth/token", json=["shenli"])
    assert wrong_type.status_code == 422 and _errors(wrong_type)[0]["code"] == "type"


def test_oversized_body_is_413(client, demo):
    response = client.post("/api/v1/auth/token", data="x" * (3 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert _errors(response)[0]["code"] == "too_large"


def test_slowed_down_after_repeated_failures(client, demo):
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "zhangmin", "password": "wrong123"}).status_code == 401
    slowed = client.post("/api/v1/auth/token", json={"username": "zhangmin", "password": DEMO_PASSWORD})
    assert slowed.status_code == 401
    [err] = _errors(slowed)
    assert err["code"] == "throttled" and "分钟后再试" in err["message"] and "锁定" not in err["message"]


def test_api_create_user_validates_each_field(client, bearer):
    headers = bearer("admin")
    response = client.post("/api/v1/users", headers=headers, json={
        "username": "shenli", "password": "short", "role": "staff", "org": "000"})
    assert response.status_code == 422
    pointers = {e["pointer"]: e["code"] for e in _errors(response)}
    assert pointers == {"/org": "unknown_org"}  # unknown org is caught before anything is written
    response = client.post("/api/v1/users", headers=headers, json={
        "username": "shenli", "password": "short", "role": "staff", "org": "339901001001"})
    pointers = {e["pointer"]: e["code"] for e in _errors(response)}
    assert pointers == {"/username": "unique", "/password": "password_policy"}
    bad_role = client.post("/api/v1/users", headers=headers, json={
        "username": "newbie", "password": "Passw0rd!xy", "role": "king", "org": "339901001001"})
    assert bad_role.status_code == 422 and _errors(bad_role)[0] == {
        "pointer": "/role", "message": "请从给定选项中选择", "code": "enum"}
    ok = client.post("/api/v1/users", headers=headers, json={
        "username": "newbie", "password": "Passw0rd!xy", "role": "staff", "org": "339901001001",
        "display_name": "新同事"})
    assert ok.status_code == 201
    assert ok.get_json()["memberships"][0]["org"] == "339901001001"


def test_unknown_route_and_method_use_error_shape(client, demo):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and _errors(missing)[0]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/auth/token")
    assert wrong_method.status_code == 405 and _errors(wrong_method)


def test_cookie_session_writes_need_csrf(client, login_as):
    login_as("admin")
    response = client.post("/api/v1/orgs", json={"code": "X1", "name": "新单位", "level": "street", "parent": "339901"})
    assert response.status_code == 400 and _errors(response)[0]["code"] == "csrf"
