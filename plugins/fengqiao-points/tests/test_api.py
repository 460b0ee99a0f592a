"""The API of issue 8: shapes, error codes, scoping, OpenAPI entries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db

from fengqiao_points.models import PointsLedger

pytestmark = [pytest.mark.plugins("points"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_account_product_redeem_collect_cancel(client, bearer, staff, make_account, make_product):
    account = make_account(balance=25, admin=bearer("admin"))
    assert set(account) == {"id", "number", "pin"} and len(account["number"]) == 8 and len(account["pin"]) == 6
    product = make_product(points=10, stock=5)
    first = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product,
                                                              "quantity": 2}, headers=staff)
    assert first.status_code == 201
    assert first.get_json() == {"id": first.get_json()["id"], "status": "reserved", "balance_after": 5}
    too_much = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product},
                           headers=staff)
    assert too_much.status_code == 409
    assert too_much.get_json()["errors"][0] == {"pointer": "/account", "message": "积分余额不足，无法完成兑换",
                                                "code": "insufficient_points"}
    rid = first.get_json()["id"]
    cancelled = client.post(f"/api/v1/p/points/redemptions/{rid}/cancel", headers=staff)
    assert cancelled.get_json() == {"id": rid, "status": "cancelled", "balance_after": 25}
    again = client.post(f"/api/v1/p/points/redemptions/{rid}/collect", headers=staff)
    assert again.status_code == 409 and again.get_json()["errors"][0]["code"] == "not_reserved"

    second = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product},
                         headers=staff).get_json()["id"]
    collected = client.post(f"/api/v1/p/points/redemptions/{second}/collect", headers=staff)
    assert collected.get_json() == {"id": second, "status": "collected"}

    detail = client.get(f"/api/v1/p/points/accounts/{account['id']}", headers=staff).get_json()
    assert detail["balance"] == 15 and detail["name"] == "王**"
    assert [(e["kind"], e["points"], e["balance_after"]) for e in detail["entries"]] == [
        ("redeem", -10, 15), ("refund", 20, 25), ("redeem", -20, 5), ("adjustment", 25, 25)]


def test_out_of_stock_and_validation(client, bearer, staff, make_account, make_product):
    account = make_account(balance=100, admin=bearer("admin"))
    product = make_product(stock=0)
    response = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product},
                           headers=staff)
    assert response.status_code == 409 and response.get_json()["errors"][0]["code"] == "out_of_stock"
    bad = client.post("/api/v1/p/points/redemptions", json={"account": "x", "product": product, "quantity": 0},
                      headers=staff)
    assert bad.status_code == 422 and {e["pointer"] for e in bad.get_json()["errors"]} == {"/account", "/quantity"}
    assert client.post("/api/v1/p/points/products", json={"name": "", "points": 0, "stock": -1},
                       headers=staff).status_code == 422
    assert client.post("/api/v1/p/points/accounts", json={"name": "张三", "org": "339901001002", "kind": "household"},
                       headers=staff).status_code == 422  # 桥东社区: not shenli's
    missing = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": 9999},
                          headers=staff)
    assert missing.status_code == 404


def test_adjustments_are_admin_only_ledgered_and_never_negative(client, bearer, staff, make_account):
    account = make_account()
    url = f"/api/v1/p/points/accounts/{account['id']}/adjustments"
    assert client.post(url, json={"points": 5, "reason": "补录"}, headers=staff).status_code == 403
    admin = bearer("admin")
    assert client.post(url, json={"points": 5, "reason": "补录积分"}, headers=admin).get_json() == {"balance_after": 5}
    below = client.post(url, json={"points": -6, "reason": "冲正"}, headers=admin)
    assert below.status_code == 409 and below.get_json()["errors"][0]["code"] == "insufficient_points"
    assert client.post(url, json={"points": 0, "reason": "冲正"}, headers=admin).status_code == 422


def test_accounts_are_scoped(client, bearer, make_account):
    account = make_account()
    assert client.get(f"/api/v1/p/points/accounts/{account['id']}", headers=bearer("hanzhiming")).status_code == 404
    assert client.get(f"/api/v1/p/points/accounts/{account['id']}", headers=bearer("luojia")).status_code == 200
    assert client.get(f"/api/v1/p/points/accounts/{account['id']}").status_code == 401


def test_entries_paginate(app, client, bearer, make_account):
    account = make_account()
    admin = bearer("admin")
    for i in range(55):
        client.post(f"/api/v1/p/points/accounts/{account['id']}/adjustments",
                    json={"points": 1, "reason": f"第{i}次"}, headers=admin)
    first = client.get(f"/api/v1/p/points/accounts/{account['id']}", headers=admin).get_json()
    assert len(first["entries"]) == 50 and first["next_cursor"]
    rest = client.get(f"/api/v1/p/points/accounts/{account['id']}?cursor={first['next_cursor']}",
                      headers=admin).get_json()
    assert len(rest["entries"]) == 5 and rest["next_cursor"] is None
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(PointsLedger)) == 55


def test_every_route_is_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/p/points/accounts", "post"), ("/p/points/accounts/{id}", "get"),
                         ("/p/points/accounts/{id}/adjustments", "post"), ("/p/points/products", "post"),
                         ("/p/points/products", "get"), ("/p/points/redemptions", "post"),
                         ("/p/points/redemptions/{id}/collect", "post"), ("/p/points/redemptions/{id}/cancel", "post")]:
        assert method in paths[path], path
