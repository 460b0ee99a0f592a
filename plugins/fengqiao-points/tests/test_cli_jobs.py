"""``fengqiao points check`` proves balances from the ledger; year-end expiry (off by
default) writes entries once; the demo rows load once."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fengqiao.sdk.models import db
from fengqiao.sdk.workdays import LOCAL_TZ

from fengqiao_points.cli import points
from fengqiao_points.expiry import expire_year_end
from fengqiao_points.models import PointsAccount, PointsLedger, PointsProduct, PointsRule

pytestmark = pytest.mark.plugins("points")


def _env(app) -> dict:
    url = app.extensions["fengqiao.db"].engine.url.render_as_string(hide_password=False)
    return {"FENGQIAO_MODE": "testing", "FENGQIAO_DATABASE_URL": url,
            "FENGQIAO_INSTANCE_PATH": app.instance_path, "FENGQIAO_PLUGINS": "points"}


def test_check_passes_then_finds_a_tampered_balance(app, bearer, make_account):
    account = make_account(balance=40, admin=bearer("admin"))
    result = CliRunner().invoke(points, ["check"], env=_env(app))
    assert result.exit_code == 0, result.output
    assert "一致" in result.output
    with app.app_context():  # someone edits a balance behind the ledger's back
        db.execute(sa.update(PointsAccount).where(PointsAccount.id == account["id"]).values(balance=41))
        db.commit()
    result = CliRunner().invoke(points, ["check"], env=_env(app))
    assert result.exit_code == 1
    assert f"账户 {account['number']}" in result.output and "余额 41，台账合计 40" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_year_end_expiry_is_off_by_default_and_writes_entries_once(app, bearer, make_account):
    old = make_account(name="甲", balance=30, admin=bearer("admin"))
    fresh = make_account(name="乙", balance=0)
    with app.test_request_context():
        assert expire_year_end() == 0  # setting off
        last_year = datetime.now(LOCAL_TZ).year - 1
        # 30 points earned last year: backdate them so that they are "before this year"
        db.execute(sa.update(PointsLedger).values(created_at=datetime(last_year - 1, 6, 1, tzinfo=LOCAL_TZ)))
        db.commit()
        assert expire_year_end(last_year) == 1
        assert expire_year_end(last_year) == 0
        assert db.get(PointsAccount, old["id"]).balance == 0
        assert db.get(PointsAccount, fresh["id"]).balance == 0
        kinds = [e.kind for e in db.scalars(sa.select(PointsLedger).order_by(PointsLedger.id))]
        assert kinds == ["adjustment", "expiry"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_seed_demo_is_idempotent(app, demo):
    for _ in range(2):
        result = CliRunner().invoke(points, ["seed-demo"], env=_env(app))
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(PointsRule)) == 4
        assert db.scalar(sa.select(sa.func.count()).select_from(PointsProduct)) == 3
