"""Helpers shared by the points tests (fixtures come from ``fengqiao.testing``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def bearer(client, demo):
    """``fengqiao.testing``'s ``bearer``, with one token per account and test (the token
    route is rate-limited, and asking once is faster)."""
    from fengqiao.sdk.testing import api_token

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


@pytest.fixture
def make_rule(app, demo):
    """Adds a county-wide points rule (参加志愿服务, 10 points, staff or resident may propose)
    with ``overrides`` for the columns a test is about (the cap, usually); returns its id."""
    from fengqiao.sdk.models import db, utcnow

    from fengqiao_points.models import PointsRule

    def _make(**overrides) -> int:
        columns = {"key": "volunteer", "version": 1, "org_code": "339901", "org_path": "/339901/",
                   "name": "参加志愿服务", "points": 10, "cap_points": 20, "cap_period": "month",
                   "evidence_required": False, "proposers": "staff,resident", "active": True}
        with app.app_context():
            row = PointsRule(**{**columns, **overrides}, created_at=utcnow())
            db.add(row)
            db.commit()
            return row.id
    return _make


@pytest.fixture
def propose_on_page(app):
    """沈丽 (揽月社区 staff) proposes a claim on the page, the way staff do (the API path is
    ``submit_form``); returns the claim's case number."""
    import sqlalchemy as sa
    from fengqiao.sdk.models import db
    from fengqiao.sdk.testing import csrf_token, login

    from fengqiao_points.models import PointsClaim

    def _propose(account: dict, rule: int) -> str:
        shenli = app.test_client()
        login(shenli, "shenli")
        url = f"/p/points/claims/new?account={account['number']}"
        response = shenli.post("/p/points/claims/new", data={
            "csrf_token": csrf_token(shenli, url), "account": account["number"], "rule": rule,
            "description": "协助整理社区图书角"})
        assert response.status_code == 302, response.get_data(as_text=True)
        with app.app_context():
            return db.scalar(sa.select(PointsClaim.case_number).order_by(PointsClaim.id.desc()).limit(1))
    return _propose
