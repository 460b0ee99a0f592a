"""``fengqiao certificates …``: seed the national list, add demo lists."""

from __future__ import annotations

import click
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.plugin import cli_app


@click.group(help="证明事项清单插件 (fengqiao-certificates)。")
def certificates() -> None:
    pass


@certificates.command("seed")
def seed() -> None:
    """Create the national negative list (20 items) unless it exists."""
    from fengqiao_certificates.national import ensure_seeded

    with cli_app().app_context():
        click.echo("已创建全国不应出具证明事项清单（20 项）" if ensure_seeded() else "全国清单已存在")


@certificates.command("seed-demo")
def seed_demo() -> None:
    """Publish a may-issue list for 揽月社区 (339901001001) unless it has one."""
    from fengqiao_certificates.demo import seed_demo_lists

    with cli_app().app_context():
        if org_unit("339901001001") is None:
            click.echo("未找到演示单位 339901001001，请先运行 fengqiao demo-data load", err=True)
            raise SystemExit(1)
        created = seed_demo_lists()
        db.commit()
        click.echo("已发布演示清单" if created else "演示清单已存在")
