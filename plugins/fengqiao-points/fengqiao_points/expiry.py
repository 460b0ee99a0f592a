"""Optional year-end expiry (setting ``year_end_expiry``, off by default), as ledger entries.

Points earned before a year began and still unspent at its end expire (oldest spent first):
on 1 January of Y+1 an account loses ``max(0, balance at the boundary − points earned in
Y)``, never more than its current balance. One entry per account and year (``ref``
``expiry:<Y>:<account>``), so the hourly job may run any number of times.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, write_lock
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.workdays import LOCAL_TZ, today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_points import ledger
from fengqiao_points.models import PointsAccount, PointsLedger

EARNING_KINDS = ("claim", "adjustment")


def expire_year_end(year: int | None = None) -> int:
    """Expire the points left over from before ``year`` (default: the year just ended)."""
    if year is None:
        if not plugin_settings("points")["year_end_expiry"]:
            return 0
        year = today_local().year - 1
    begin = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)
    done = sa.select(PointsLedger.account_id).where(PointsLedger.ref.like(f"expiry:{year}:%"))
    ids = list(db.scalars(sa.select(PointsAccount.id).where(PointsAccount.id.not_in(done))
                          .order_by(PointsAccount.id)))
    db.rollback()
    expired = 0
    for account_id in ids:
        at_end = db.scalar(sa.select(PointsLedger.balance_after).where(
            PointsLedger.account_id == account_id, PointsLedger.created_at < end)
            .order_by(PointsLedger.id.desc()).limit(1)) or 0
        earned = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsLedger.points), 0)).where(
            PointsLedger.account_id == account_id, PointsLedger.kind.in_(EARNING_KINDS),
            PointsLedger.points > 0, PointsLedger.created_at >= begin, PointsLedger.created_at < end)) or 0
        try:
            write_lock()
            balance = db.scalar(sa.select(PointsAccount.balance).where(PointsAccount.id == account_id)) or 0
            amount = min(max(at_end - earned, 0), balance)
            if amount <= 0:
                db.rollback()
                continue
            ledger.post(account_id, -amount, kind="expiry", reason=f"{year} 年以前获得的积分年末到期",
                        ref=f"expiry:{year}:{account_id}")
            db.commit()
            expired += 1
        except (IntegrityError, APIError):
            db.rollback()
    return expired
