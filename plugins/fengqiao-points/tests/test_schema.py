"""The plugin's migration matches its models on SQLite and PostgreSQL; the database itself
refuses a negative balance or stock; the package imports nothing from the core but the sdk."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import imports_outside_the_sdk, migration_drift
from sqlalchemy.exc import IntegrityError

import fengqiao_points  # noqa: F401  (registers the models)
from fengqiao_points.models import PointsAccount, PointsProduct

pytestmark = pytest.mark.plugins("points")


def test_migration_matches_the_models(app):
    assert migration_drift(app, "points_") == []


def test_the_database_refuses_negative_balance_and_stock(app, make_account, make_product):
    account = make_account()
    product = make_product(stock=1)
    with app.app_context():
        for stmt in (sa.update(PointsAccount).where(PointsAccount.id == account["id"]).values(balance=-1),
                     sa.update(PointsProduct).where(PointsProduct.id == product).values(stock=-1)):
            with pytest.raises(IntegrityError):
                db.execute(stmt)
                db.commit()
            db.rollback()


def test_imports_only_the_sdk_from_the_core():
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_points") == []


def test_the_ledger_is_append_only_in_the_code():
    """No UPDATE or DELETE of points_ledger anywhere in the package."""
    package = Path(__file__).resolve().parents[1] / "fengqiao_points"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("update(LEDGER", "update(PointsLedger", "delete(LEDGER", "delete(PointsLedger",
                       "UPDATE points_ledger", "DELETE FROM points_ledger"):
            assert needle not in text, f"{path.name}: {needle}"
