"""``fengqiao points …``: the ledger check and demo rows."""

from __future__ import annotations

import click
from fengqiao.sdk.plugin import cli_app


@click.group(help="积分超市插件 (fengqiao-points)。")
def points() -> None:
    pass


@points.command("check")
def check() -> None:
    """Rebuild every balance from the ledger; exit 1 when one differs."""
    from fengqiao_points.ledger import chain_breaks, mismatches

    with cli_app().app_context():
        wrong = mismatches()
        broken = chain_breaks()
    for account_id, number, balance, total in wrong:
        click.echo(f"账户 {number}（id {account_id}）：余额 {balance}，台账合计 {total}", err=True)
    for account_id, entry_id in broken:
        click.echo(f"账户 id {account_id} 的台账第 {entry_id} 条余额与前后记录不连续", err=True)
    if wrong or broken:
        raise SystemExit(1)
    click.echo("积分余额与台账一致")


@points.command("seed-demo")
def seed_demo() -> None:
    """Add the demo rules, accounts and products (idempotent)."""
    from fengqiao_points.demo import load

    with cli_app().app_context():
        load()
    click.echo("已载入积分超市示例数据")
