"""Helpers shared by the points tests (fixtures come from ``fengqiao.testing``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def bearer(client, demo):
    """``fengqiao.testing``'s ``bearer``, with one token per account and test (the token
    route is rate-limited, and asking once is faster)."""
    from fengqiao.testing.plugin import api_token

    tokens: dict[str, dict[str, str]] = {}

    def _headers(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = {"Authorization": f"Bearer {api_token(client, username)}"}
        return tokens[username]

    return _headers


@pytest.fixture
def staff(bearer):
    """API headers of 沈丽 (揽月社区 staff: points.manage there)."""
    return bearer("shenli")


@pytest.fixture
def make_account(client, staff):
    def _make(name="王秀英", org="339901001001", kind="household", balance=0, admin=None):
        response = client.post("/api/v1/p/points/accounts", json={"name": name, "org": org, "kind": kind},
                               headers=staff)
        assert response.status_code == 201, response.get_data(as_text=True)
        account = response.get_json()
        if balance:
            adjusted = client.post(f"/api/v1/p/points/accounts/{account['id']}/adjustments",
                                   json={"points": balance, "reason": "期初积分导入"}, headers=admin)
            assert adjusted.status_code == 201, adjusted.get_data(as_text=True)
        return account
    return _make


@pytest.fixture
def make_product(client, staff):
    def _make(name="洗衣液", points=10, stock=100):
        response = client.post("/api/v1/p/points/products", json={"name": name, "points": points, "stock": stock},
                               headers=staff)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]
    return _make
