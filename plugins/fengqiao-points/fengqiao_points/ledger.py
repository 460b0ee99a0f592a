"""The append-only ledger: the only way a balance changes.

``post`` moves a balance with one conditional ``UPDATE … WHERE balance + :points >= 0`` (so a
balance never goes below zero, whatever the concurrency: the database decides, under the
row lock on PostgreSQL and ``BEGIN IMMEDIATE`` on SQLite) and appends the entry with the
balance that update returned. Nothing in this plugin updates or deletes a ledger row.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow

from fengqiao_points.models import PointsAccount, PointsLedger

ACCOUNTS = PointsAccount.__table__
LEDGER = PointsLedger.__table__

KIND_LABELS = {"claim": "积分入账", "adjustment": "人工调整", "redeem": "兑换扣减",
               "refund": "退还积分", "expiry": "到期清零"}


def insufficient_points() -> APIError:
    return APIError(409, [("/account", "积分余额不足，无法完成兑换", "insufficient_points")])


def post(account_id: int, points: int, *, kind: str, reason: str, ref: str | None = None,
         actor: str | None = None, rule_id: int | None = None, claim_number: str | None = None,
         redemption_id: int | None = None) -> int:
    """Change the balance by ``points`` and append the entry; returns the balance after.

    Call inside a transaction that began with ``write_lock()``; the caller commits. Raises
    ``insufficient_points`` (409) when the balance would go below zero; a repeated ``ref``
    raises ``IntegrityError`` (the unique constraint: that change already happened).
    """
    balance = db.execute(
        sa.update(ACCOUNTS)
        .where(ACCOUNTS.c.id == account_id, ACCOUNTS.c.balance + points >= 0)
        .values(balance=ACCOUNTS.c.balance + points)
        .returning(ACCOUNTS.c.balance)
    ).scalar_one_or_none()
    if balance is None:
        raise insufficient_points()
    db.execute(sa.insert(LEDGER).values(
        account_id=account_id, points=points, balance_after=balance, kind=kind, reason=reason[:200],
        ref=ref, actor=actor, rule_id=rule_id, claim_number=claim_number,
        redemption_id=redemption_id, created_at=utcnow(),
    ))
    return balance


def mismatches() -> list[tuple[int, str, int, int]]:
    """Accounts whose balance differs from the sum of their ledger entries:
    ``(id, number, balance, sum of entries)``."""
    sums = (sa.select(LEDGER.c.account_id, sa.func.sum(LEDGER.c.points).label("total"))
            .group_by(LEDGER.c.account_id).subquery())
    total = sa.func.coalesce(sums.c.total, 0)
    rows = db.execute(
        sa.select(ACCOUNTS.c.id, ACCOUNTS.c.number, ACCOUNTS.c.balance, total)
        .outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id)
        .where(ACCOUNTS.c.balance != total)
        .order_by(ACCOUNTS.c.id)
    )
    return [(r[0], r[1], r[2], int(r[3])) for r in rows]


def chain_breaks() -> list[tuple[int, int]]:
    """Entries whose ``balance_after`` is not the previous entry's plus their points
    (``(account_id, entry id)``): the ledger replayed in order must tell the same story."""
    broken: list[tuple[int, int]] = []
    running: dict[int, int] = {}
    for entry_id, account_id, points, after in db.execute(
        sa.select(LEDGER.c.id, LEDGER.c.account_id, LEDGER.c.points, LEDGER.c.balance_after)
        .order_by(LEDGER.c.account_id, LEDGER.c.id)
        .execution_options(yield_per=5000)
    ):
        running[account_id] = running.get(account_id, 0) + points
        if running[account_id] != after:
            broken.append((account_id, entry_id))
            running[account_id] = after
    return broken
