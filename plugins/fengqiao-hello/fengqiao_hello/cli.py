"""``fengqiao hello …``: the plugin's commands (a click group the core mounts by name)."""

from __future__ import annotations

import click
from fengqiao.sdk.plugin import cli_app


@click.group(help="问候插件 (fengqiao-hello)。")
def hello() -> None:
    pass


@hello.command("count")
def count() -> None:
    """Print how many greetings were received."""
    from fengqiao_hello.views import greeting_count

    with cli_app().app_context():
        click.echo(greeting_count())
