"""``fengqiao vanguard …``: the plugin's commands."""

from __future__ import annotations

import click
from fengqiao.sdk.plugin import cli_app


@click.group(help="党员先锋指数插件 (fengqiao-vanguard)。")
def vanguard() -> None:
    pass


@vanguard.command("seed-demo")
def seed_demo() -> None:
    """Add the demo members and events to 揽月社区 (skipped when it already has members)."""
    from fengqiao_vanguard.demo import load_demo

    with cli_app().app_context():
        load_demo()
        click.echo("ok")
