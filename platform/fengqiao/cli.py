"""The ``fengqiao`` command (DESIGN.md §3).

Exit codes: 0 success, 1 invalid input (the message names the file or field), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from fengqiao.config import ConfigError

DEMO_DB = "demo.db"


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def make_app(overrides: dict[str, Any] | None = None, serving: bool = False) -> Flask:
    """The configured app; only serving commands insist on FENGQIAO_SECRET_KEY."""
    from fengqiao.app import create_app

    overrides = dict(overrides or {})
    overrides.setdefault("require_secret_key", serving)
    try:
        return create_app(overrides)
    except ConfigError as err:
        _fail(str(err))
        raise  # unreachable


def _upgrade(app: Flask) -> list[str]:
    from fengqiao.migrate import upgrade

    return upgrade(app.extensions["fengqiao.db"].engine)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fengqiao")
def main() -> None:
    """枫桥 Fengqiao: forms and case management for grassroots governance."""


@main.command()
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reset", is_flag=True, help="Delete the demo database and start afresh.")
def demo(port: int, reset: bool) -> None:
    """SQLite demo with demo data, jobs in-process, served on 127.0.0.1."""
    from fengqiao.config import load_settings

    settings = load_settings({"mode": "demo"})
    db_file = settings.instance_path / DEMO_DB
    if reset and db_file.exists():
        for suffix in ("", "-wal", "-shm"):
            db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    app = make_app({"mode": "demo", "database_url": f"sqlite:///{db_file}", "redis_url": None})
    with app.app_context():
        _upgrade(app)
        from fengqiao.demo_data import DEMO_PASSWORD, STAFF, load_demo_data

        load_demo_data()
    url = f"http://127.0.0.1:{port}/"
    click.echo(f"\n枫桥演示已就绪 · Fengqiao demo: {url}")
    click.echo(f"登录页 login: {url}login   （所有演示账号密码 password: {DEMO_PASSWORD}）")
    for username, name, role, _org, duty in STAFF:
        click.echo(f"  {username:<12} {role:<12} {name}（{duty}）")
    click.echo("按 Ctrl+C 停止 · Ctrl+C to stop\n")
    app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False, threaded=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def run(host: str, port: int) -> None:
    """Serve the configured app (production: gunicorn fengqiao.wsgi:app)."""
    app = make_app(serving=True)
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """An RQ worker with the same plugins enabled as the web app."""
    app = make_app()
    settings = app.extensions["fengqiao.settings"]
    if not settings.redis_url:
        _fail("FENGQIAO_REDIS_URL 未设置：没有 Redis 时任务在 Web 进程内执行，无需 worker")
    from redis.exceptions import ConnectionError as RedisConnectionError

    from fengqiao.jobs.worker import run_worker

    try:
        run_worker(app, burst=burst)
    except RedisConnectionError as err:
        _fail(f"无法连接 Redis ({settings.redis_url}): {err}")


@main.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply core and plugin migrations (idempotent)."""
    app = make_app()
    with app.app_context():
        applied = _upgrade(app)
    click.echo(f"已升级到 {', '.join(applied)}" if applied else "数据库已是最新版本 (up to date)")


@main.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, help="`-` reads the password from stdin.")
@click.option("--role", required=True)
@click.option("--org", "org_code", required=True, help="Org unit code, e.g. 339901001001.")
@click.option("--name", "display_name", default="", help="Display name.")
def users_create(username: str, password: str, role: str, org_code: str, display_name: str) -> None:
    """Create a staff account with a role in an org unit."""
    from fengqiao.accounts.service import create_user
    from fengqiao.db import db
    from fengqiao.errors import ValidationFailed

    if password == "-":
        password = sys.stdin.readline().rstrip("\r\n")
    app = make_app()
    with app.app_context():
        try:
            user = create_user(username, password, role, org_code, display_name)
        except ValidationFailed as failed:
            db.rollback()
            _fail("\n".join(f"{p.lstrip('/') or 'input'}: {m}" for p, m, _ in failed.problems))
        db.commit()
        click.echo(f"已创建用户 {user.username}（{role} @ {org_code}）")


@main.group("plugins")
def plugins_group() -> None:
    """Installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json: bool) -> None:
    """Every installed plugin with its state and reason."""
    from fengqiao.plugins.loader import plugin_report

    app = make_app()
    report = plugin_report(app)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    if not report:
        click.echo("未安装插件 (no plugins installed)")
    for p in report:
        reason = f"  ({p['reason']})" if p["reason"] else ""
        click.echo(f"{p['name']:<16} {p['version'] or '-':<10} api {p['api_version'] or '-':<10} {p['state']}{reason}")


@main.group("orgs")
def orgs_group() -> None:
    """The org hierarchy."""


@orgs_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def orgs_list(as_json: bool) -> None:
    """Every org unit as {code, name, parent, level}."""
    import sqlalchemy as sa

    from fengqiao.db import db
    from fengqiao.models import OrgUnit

    app = make_app()
    with app.app_context():
        units = [u.to_json() for u in db.scalars(sa.select(OrgUnit).order_by(OrgUnit.path))]
    if as_json:
        click.echo(json.dumps(units, ensure_ascii=False, indent=2))
        return
    for u in units:
        click.echo(f"{u['code']:<18} {u['level']:<10} {u['name']}" + ("" if u["active"] else "  [停用]"))


@main.group("forms")
def forms_group() -> None:
    """Form definitions."""


@forms_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def forms_check(paths: tuple[Path, ...]) -> None:
    """Validate definition files: exit 0 when all are valid, 1 with one line per problem."""
    from fengqiao.forms.definition import check_files

    definitions, problems = check_files(paths)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(definitions)} 个表单定义均有效")


@forms_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish each imported definition as a new version.")
@click.option("--allow-breaking", is_flag=True, help="Publish even when fields break old submissions.")
def forms_import(paths: tuple[Path, ...], publish: bool, allow_breaking: bool) -> None:
    """Import definitions as drafts, or --publish them (refuses breaking changes)."""
    from fengqiao.db import db
    from fengqiao.forms.definition import check_files
    from fengqiao.forms.store import BreakingChange, announce_published, import_definition

    definitions, problems = check_files(paths)
    if problems:
        _fail("\n".join(str(p) for p in problems))
    app = make_app()
    failed = False
    with app.app_context():
        for definition in definitions:
            try:
                result = import_definition(definition.to_dict(), "core", publish, allow_breaking)
                db.commit()
                if result.version is not None:
                    announce_published(result.version)
            except BreakingChange as err:
                db.rollback()
                failed = True
                click.echo(f"{err.form_key}: 不兼容的修改，未发布（加 --allow-breaking 确认）:", err=True)
                for change in err.diff.changes:
                    if change.breaking:
                        click.echo(f"  {change.path}: {change.message}", err=True)
                continue
            if result.unchanged:
                click.echo(f"{result.key}: 与已发布版本相同，未改动")
            elif result.published_version:
                click.echo(f"{result.key}: 已发布第 {result.published_version} 版")
            else:
                click.echo(f"{result.key}: 已保存为草稿")
    if failed:
        sys.exit(1)


@main.group("demo-data")
def demo_data_group() -> None:
    """Demo jurisdiction."""


@demo_data_group.command("load")
def demo_data_load() -> None:
    """Load the demo jurisdiction into the configured database."""
    from fengqiao.demo_data import load_demo_data

    app = make_app()
    with app.app_context():
        added = load_demo_data()
    click.echo(f"已加载演示数据：新增 {added['units']} 个单位、{added['users']} 个用户、"
               f"发布 {added['forms']} 个表单")


if __name__ == "__main__":  # pragma: no cover
    main()
