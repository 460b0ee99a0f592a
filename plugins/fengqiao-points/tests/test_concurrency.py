"""Redemptions under real concurrency (20 threads, each its own test client and database
connection) on SQLite and PostgreSQL: never below zero, never oversold, ledger consistent."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db

from fengqiao_points.ledger import chain_breaks, mismatches
from fengqiao_points.models import PointsAccount, PointsProduct

pytestmark = pytest.mark.plugins("points")

THREADS = 20


def _race(app, headers: dict, body: dict) -> list:
    """Fire THREADS redemptions at once; returns (status, code) per request."""
    barrier = threading.Barrier(THREADS)
    results: list = []
    lock = threading.Lock()

    def one() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/p/points/redemptions", json=body, headers=headers)
        data = response.get_json()
        code = data["errors"][0]["code"] if response.status_code >= 400 else data["status"]
        with lock:
            results.append((response.status_code, code))

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == THREADS
    return results


def _consistent(app) -> None:
    with app.app_context():
        assert mismatches() == []
        assert chain_breaks() == []


def test_twenty_redemptions_against_fifty_points(app, bearer, staff, make_account, make_product):
    account = make_account(balance=50, admin=bearer("admin"))
    product = make_product(points=10, stock=100)
    results = _race(app, staff, {"account": account["id"], "product": product, "quantity": 1})
    assert Counter(results) == {(201, "reserved"): 5, (409, "insufficient_points"): 15}
    with app.app_context():
        assert db.get(PointsAccount, account["id"]).balance == 0
        assert db.get(PointsProduct, product).stock == 95
    _consistent(app)


def test_twenty_redemptions_against_stock_of_three(app, bearer, staff, make_account, make_product):
    account = make_account(balance=10_000, admin=bearer("admin"))
    product = make_product(points=10, stock=3)
    results = _race(app, staff, {"account": account["id"], "product": product})
    assert Counter(results) == {(201, "reserved"): 3, (409, "out_of_stock"): 17}
    with app.app_context():
        assert db.get(PointsAccount, account["id"]).balance == 10_000 - 30
        assert db.get(PointsProduct, product).stock == 0
    _consistent(app)


def test_concurrent_cancel_refunds_once(app, bearer, staff, make_account, make_product):
    account = make_account(balance=10, admin=bearer("admin"))
    product = make_product(points=10, stock=1)
    redemption = app.test_client().post("/api/v1/p/points/redemptions",
                                        json={"account": account["id"], "product": product},
                                        headers=staff).get_json()["id"]
    barrier = threading.Barrier(10)
    codes: list[int] = []

    def one(action: str) -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(f"/api/v1/p/points/redemptions/{redemption}/{action}", headers=staff).status_code)

    threads = [threading.Thread(target=one, args=("cancel" if i % 2 else "collect",)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] + [409] * 9
    with app.app_context():
        balance = db.get(PointsAccount, account["id"]).balance
        stock = db.get(PointsProduct, product).stock
        assert (balance, stock) in {(10, 1), (0, 0)}  # cancelled (refund) or collected, never both
        assert db.scalar(sa.select(sa.func.count()).select_from(PointsAccount)) == 1
    _consistent(app)
