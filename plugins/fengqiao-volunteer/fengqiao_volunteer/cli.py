"""``fengqiao volunteer …`` commands."""

from __future__ import annotations

import click
from fengqiao.sdk.plugin import cli_app


@click.group(help="志愿服务插件 (fengqiao-volunteer)。")
def volunteer() -> None:
    pass


@volunteer.command("seed-demo")
def seed_demo() -> None:
    """Add the demo volunteers, activities and hours (idempotent)."""
    from fengqiao_volunteer.demo import load

    with cli_app().app_context():
        load()
        click.echo("志愿服务示例数据已就绪")


@volunteer.command("finalise-stars")
def finalise_stars() -> None:
    """End the 公示 of star awards whose notice period is over (the hourly job does this too)."""
    from fengqiao_volunteer.hours import finalise_awards

    with cli_app().app_context():
        click.echo(finalise_awards())
