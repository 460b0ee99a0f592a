"""The ``fengqiao`` command (README.md, "The `fengqiao` command").

Exit codes: 0 success, 1 invalid input (the message names the file or field), 2 usage error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime
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
    """Migrate core and plugin tables, then publish changed core/plugin form definitions."""
    from fengqiao.forms.core import sync_all_forms
    from fengqiao.migrate import upgrade

    applied = upgrade(app.extensions["fengqiao.db"].engine)
    from fengqiao.db import db
    from fengqiao.workcalendar import announce_calendar_changed
    from fengqiao.workcalendar.seeding import seed_from_chinese_calendar

    seeded = seed_from_chinese_calendar()  # library data, so not in a migration; idempotent
    announce_calendar_changed(seeded)
    sync_all_forms(app)
    db.commit()  # the calendar and the definitions in one transaction
    return applied


def _plugin_commands() -> dict[str, click.Command]:
    """``fengqiao <plugin> …``: each installed plugin's own click group, if it has one."""
    from fengqiao.plugins.discovery import discover

    commands = {}
    for plugin in discover().plugins:
        try:
            group = plugin.cli()
        except Exception as exc:  # a broken plugin CLI must not break the core's
            click.echo(f"插件 {plugin.name} 的命令加载失败: {exc}", err=True)
            continue
        if group is not None:
            group.name = plugin.name
            commands[plugin.name] = group
    return commands


class FengqiaoGroup(click.Group):
    """The core's commands plus one group per installed plugin."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_plugin_commands()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _plugin_commands().get(name)


@click.group(cls=FengqiaoGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from werkzeug.serving import make_server

    # Bind first: a busy port stops the demo at once (Werkzeug says so, exit 1), not after the set-up.
    server = make_server("127.0.0.1", port, app, threaded=True)
    # The banner is the demo's output: set-up chatter (case types synced …) stays below WARNING,
    # and Werkzeug's access lines repeat what fengqiao.requests logs already.
    access = logging.getLogger("werkzeug")
    access_level = access.level
    access.setLevel(logging.WARNING)
    chatty = logging.getLogger("fengqiao")
    level = chatty.level
    chatty.setLevel(logging.WARNING)
    try:
        with app.app_context():
            _upgrade(app)
            from fengqiao.demo_data import load_demo_data, load_plugin_demo_data
            from fengqiao.demo_living import load_living_demo

            load_demo_data()
            load_plugin_demo_data()
            load_living_demo()  # a year of cases, once (skipped when the database has cases)
    finally:
        chatty.setLevel(level)
    from fengqiao.jobs.sweep import start_inline_ticker

    start_inline_ticker(app)
    click.echo(demo_banner(f"http://127.0.0.1:{port}/"))
    try:
        server.serve_forever()  # returns on Ctrl+C, the socket closed
    finally:
        access.setLevel(access_level)  # the process may go on (a test running the command in-process)
    click.echo("演示已停止。")


def demo_banner(url: str) -> str:
    """What ``fengqiao demo`` (and so ``make demo``) prints: where to go, who to log in as
    (the demo accounts grouped by role, one shared password, the account to try first with
    what to try in brackets) and how to stop."""
    from fengqiao.accounts.roles import ROLE_LABELS
    from fengqiao.demo_data import DEMO_PASSWORD, STAFF, TRY_FIRST

    by_role: dict[str, list[str]] = {role: [] for role in ROLE_LABELS}
    for username, _name, role, _org, _duty in STAFF:
        by_role.setdefault(role, []).append(username)
    for role, (first, hint) in TRY_FIRST.items():
        if first in by_role.get(role, ()):
            by_role[role] = [f"{first}（{hint}）", *(n for n in by_role[role] if n != first)]
    lines = [
        "",
        f"枫桥演示已启动：{url}",
        f"  工作人员登录：{url}login（演示账号的密码都是 {DEMO_PASSWORD}）",
        f"  居民办事：{url}forms",
        "演示账号（按角色，括号内为建议先试的操作）：",
        *(f"  {ROLE_LABELS.get(role, role)}：{' '.join(names)}" for role, names in by_role.items() if names),
        "按 Ctrl+C 停止演示。",
        "",
    ]
    return "\n".join(lines)


def _serve(app, host: str, port: int) -> None:
    """Serve with Werkzeug; without Redis, this process also ticks the job sweeps."""
    from fengqiao.jobs.sweep import start_inline_ticker

    start_inline_ticker(app)
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def run(host: str, port: int) -> None:
    """Serve the configured app (production: gunicorn fengqiao.wsgi:app)."""
    app = make_app(serving=True)
    _serve(app, host, port)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--fork", is_flag=True,
              help="Run each job in a forked work horse (isolation; slower than the default in-process jobs).")
def worker(burst: bool, fork: bool) -> None:
    """An RQ worker with the same plugins enabled as the web app."""
    app = make_app()
    settings = app.extensions["fengqiao.settings"]
    if not settings.redis_url:
        _fail("FENGQIAO_REDIS_URL 未设置：没有 Redis 时任务在 Web 进程内执行，无需 worker")
    from redis.exceptions import ConnectionError as RedisConnectionError

    from fengqiao.jobs.worker import run_worker

    try:
        run_worker(app, burst=burst, fork=fork)
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


def _database_url() -> str:
    """The configured database URL, without starting the app (restore may target a new file)."""
    from fengqiao.config import load_settings

    try:
        return load_settings({"require_secret_key": False}).database_url
    except ConfigError as err:
        _fail(str(err))
        raise  # unreachable


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(path: Path) -> None:
    """Back up the database to PATH (SQLite: online backup; PostgreSQL: pg_dump -Fc)."""
    from fengqiao.backup import BackupError, backup

    try:
        done = backup(_database_url(), path)
    except BackupError as err:
        _fail(str(err))
    click.echo(f"已备份到 {done.path}（{done.bytes / 1024 / 1024:.1f} MB）")


@db_group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
def db_restore(path: Path, force: bool) -> None:
    """Restore a backup made by `fengqiao db backup` into the configured database."""
    from fengqiao.backup import BackupError, restore

    try:
        done = restore(_database_url(), path, force)
    except BackupError as err:
        _fail(str(err))
    click.echo(f"已从 {path} 恢复（{done.backend}）；如版本较旧，请再运行 fengqiao db upgrade")


@main.group("users")
def users_group() -> None:
    """Staff accounts."""


def _cli_audit_context(command: str) -> dict[str, str]:
    """What account audit rows written by a command record beside the actor ``system``."""
    import getpass

    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        os_user = ""
    return {"via": "cli", "command": command, "os_user": os_user}


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, help="`-` reads the password from stdin.")
@click.option("--role", required=True)
@click.option("--org", "org_code", required=True, help="Org unit code, e.g. 339901001001.")
@click.option("--name", "display_name", default="", help="Display name.")
def users_create(username: str, password: str, role: str, org_code: str, display_name: str) -> None:
    """Create a staff account with a role in an org unit."""
    from flask import g

    from fengqiao.accounts.service import announce_user_created, create_user
    from fengqiao.db import db
    from fengqiao.exceptions import Invalid

    if password == "-":
        password = sys.stdin.readline().rstrip("\r\n")
    app = make_app()
    with app.app_context():
        g.audit_context = _cli_audit_context("users create")  # the audit row names who ran it
        try:
            user = create_user(username, password, role, org_code, display_name)
        except Invalid as failed:
            _fail("\n".join(f"{p.lstrip('/') or 'input'}: {m}" for p, m, _ in failed.problems))
        announce_user_created(user)
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
    with app.app_context():
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


def _definition_files(paths: tuple[Path, ...]) -> tuple[list, list]:
    """Definitions and problems of .json files and .xlsx workbooks (fengqiao.forms.xlsform)."""
    from fengqiao.forms.definition import check_files
    from fengqiao.forms.xlsform import check_workbook_files, is_workbook

    workbooks = [p for p in paths if p.is_file() and is_workbook(p)]
    definitions, problems = check_files([p for p in paths if p not in workbooks])
    more, more_problems = check_workbook_files(workbooks)
    keys = {d.key for d in definitions}
    for definition in more:
        if definition.key in keys:
            more_problems.append(f"表单 key 重复：{definition.key}")
        keys.add(definition.key)
    return definitions + more, problems + more_problems


@forms_group.command("template")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def forms_template(output: Path) -> None:
    """Write the example workbook for forms designed in Excel (docs/xlsform.md)."""
    from fengqiao.forms.xlsform import template_workbook

    output.write_bytes(template_workbook())
    click.echo(f"已写入模板工作簿 {output}")


@forms_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def forms_check(paths: tuple[Path, ...]) -> None:
    """Validate definition files (.json, or .xlsx workbooks): exit 0 when all are valid, 1 with one line per problem."""
    definitions, problems = _definition_files(paths)
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
    """Import definitions (.json, or .xlsx workbooks designed in Excel) as drafts, or
    --publish them (refuses breaking changes)."""
    from fengqiao.db import db
    from fengqiao.forms.store import BreakingChange, announce_published, import_definition

    definitions, problems = _definition_files(paths)
    if problems:
        _fail("\n".join(str(p) for p in problems))
    app = make_app()
    failed = False
    with app.app_context():
        from fengqiao.forms import case_link

        refused = [f"{d.key}: {pointer}: {message}" for d in definitions
                   for pointer, message, _code in case_link.problems(d.to_dict(), None)]
        if refused:  # nothing is imported: the files name case types this deployment lacks
            _fail("\n".join(refused))
        for definition in definitions:
            try:
                result = import_definition(definition.to_dict(), "core", publish, allow_breaking)
                if result.version is not None:
                    announce_published(result.version)
            except BreakingChange as err:
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
        db.commit()
    if failed:
        sys.exit(1)


@main.group("demo-data")
def demo_data_group() -> None:
    """Demo jurisdiction."""


@demo_data_group.command("load")
@click.option("--with-cases", is_flag=True,
              help="Also add the living demo's cases (about 300 over the past year; skipped if there are cases).")
def demo_data_load(with_cases: bool) -> None:
    """Load the demo jurisdiction into the configured database."""
    from fengqiao.demo_data import load_demo_data, load_plugin_demo_data

    app = make_app()
    with app.app_context():
        added = load_demo_data()
        load_plugin_demo_data()
        cases = 0
        if with_cases:
            from fengqiao.demo_living import load_living_demo

            cases = load_living_demo()["cases"]
    click.echo(f"已加载演示数据：新增 {added['units']} 个单位、{added['users']} 个用户、"
               f"发布 {added['forms']} 个表单" + (f"、{cases} 件演示事项" if with_cases else ""))


MAX_DAYS_ARG = 10000  # ``fengqiao calendar due``: about forty years of working days


def parse_start(text: str) -> datetime:
    """``calendar due``'s START: ``2025-09-30`` or ``2025-09-30T09:00[+08:00]`` → aware local
    datetime; ValueError otherwise (``fromisoformat`` alone would accept ``20250930``)."""
    from fengqiao.workcalendar import to_local

    text = (text or "").strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return to_local(datetime.fromisoformat(text))


@main.group("calendar")
def calendar_group() -> None:
    """The working-day calendar (放假/调休)."""


@calendar_group.command("due", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("n")
@click.option("--org", "org_code", default=None, help="Unit code: use its jurisdiction's calendar.")
def calendar_due(start: str, n: str, org_code: str | None) -> None:
    """Print the deadline N working days after START (ISO date or datetime, local time)."""
    from sqlalchemy.exc import SQLAlchemyError

    from fengqiao.workcalendar import add_working_days, jurisdiction_of

    try:
        start_at = parse_start(start)
    except ValueError:
        _fail(f"START「{start}」不是有效的日期或时间，应为 ISO 格式，如 2025-09-30 或 2025-09-30T09:00")
    if not re.fullmatch(r"[0-9]+", n.strip()) or int(n) > MAX_DAYS_ARG:
        _fail(f"N「{n}」不是有效的工作日数，应为 0–{MAX_DAYS_ARG} 的整数")
    app = make_app()
    with app.app_context():
        codes = None
        if org_code is not None:
            codes = jurisdiction_of(org_code)
            if codes is None:
                _fail(f"--org：单位 {org_code} 不存在")
        try:
            deadline = add_working_days(start_at, int(n), codes)
        except (OverflowError, ValueError) as err:
            _fail(f"N「{n}」超出可计算的日期范围：{err}")
        except SQLAlchemyError as err:
            _fail(f"无法读取工作日历（请先运行 fengqiao db upgrade）：{err.__class__.__name__}")
    click.echo(str(deadline))


@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="The arrangement's year (default: the latest in the file).")
@click.option("--org", "org_code", default=None, help="Unit code for a local arrangement (default: national).")
def calendar_import(file: Path, year: int | None, org_code: str | None) -> None:
    """Import a year's 放假/调休 arrangement (CSV/xlsx: 日期, 类型 放假/上班, 名称)."""
    import getpass

    from fengqiao.db import db
    from fengqiao.workcalendar import announce_calendar_changed
    from fengqiao.workcalendar.arrangement import ArrangementInvalid, import_arrangement

    app = make_app()
    with app.app_context():
        try:
            result = import_arrangement(file.read_bytes(), file.name, year, org_code,
                                        actor=f"cli:{getpass.getuser()}"[:64])
        except ArrangementInvalid as invalid:
            _fail(f"{file}: 未导入，共 {len(invalid.problems)} 处问题：\n"
                  + "\n".join(f"  {p}" for p in invalid.problems))
        announce_calendar_changed(result.years, org_code)
        db.commit()
    click.echo(result.summary)


@calendar_group.command("years")
def calendar_years() -> None:
    """Which years' 放假/调休 arrangements have been entered."""
    from fengqiao.workcalendar.overview import year_overview

    app = make_app()
    with app.app_context():
        rows = year_overview()
    for r in rows:
        state = "已录入" if r.complete else "未录入（按周一至周五暂估）" if r.org_code is None else "未录入"
        source = f"  {r.source}" if r.source else ""
        click.echo(f"{r.year}  {r.org_name:<8} {state}  放假 {r.holidays} 天、上班 {r.workdays} 天{source}")


@main.group("cases")
def cases_group() -> None:
    """Cases."""


MAX_SYNTHETIC = 10_000_000


@cases_group.command("generate")
@click.argument("n")
@click.option("--seed", default=2026, show_default=True, type=int, help="Same seed, same cases.")
@click.option("--allow-production", is_flag=True, help="Write into a production-mode database anyway.")
def cases_generate(n: str, seed: int, allow_production: bool) -> None:
    """Insert N synthetic cases spread over the last year (benchmarks and load tests)."""
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from fengqiao.cases.synthetic import NoUnits, generate_cases

    if not re.fullmatch(r"[0-9]+", n.strip()) or not 1 <= int(n) <= MAX_SYNTHETIC:
        _fail(f"N「{n}」不是有效的数量，应为 1–{MAX_SYNTHETIC} 的整数")
    app = make_app()
    if app.extensions["fengqiao.settings"].mode == "production" and not allow_production:
        _fail("当前为生产模式（FENGQIAO_MODE 未设置或为 production）：合成事项只应写入测试或基准数据库；"
              "确需写入请加 --allow-production")
    began, shown = time.perf_counter(), [0]

    def progress(done: int, total: int) -> None:
        if done - shown[0] >= total / 20 or done == total:  # about twenty lines, whatever N is
            shown[0] = done
            click.echo(f"已生成 {done}/{total} 件（{done / (time.perf_counter() - began):,.0f} 件/秒）")

    with app.app_context():
        try:
            result = generate_cases(int(n), seed=seed, progress=progress)
        except NoUnits as err:
            _fail(str(err))
        except SQLAlchemyError as err:
            _fail(f"无法写入数据库（请先运行 fengqiao db upgrade）：{err.__class__.__name__}")
    click.echo(f"完成：{result.cases} 件事项、{result.events} 条办理记录、{result.participants} 个派单单位，"
               f"共 {result.rows} 行，用时 {result.seconds:.1f} 秒（{result.rows / result.seconds:,.0f} 行/秒）")


@cases_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--form", "form_key", required=True, help="Form key, e.g. grid-incident.")
@click.option("--org", "org_code", default=None, help="Unit code for rows without a 所属单位 column/cell.")
@click.option("--check-only", is_flag=True, help="Validate every row and report; write nothing.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the rejected rows go (default: beside FILE, *.问题行.xlsx).")
def cases_import(file: Path, form_key: str, org_code: str | None, check_only: bool, report: Path | None) -> None:
    """Import cases from .xlsx/.csv (header: the form's field titles or keys): all rows or none."""
    from sqlalchemy.exc import SQLAlchemyError

    from fengqiao.cases.importer import ImportFailed, ImportRejected, import_cases

    app = make_app()
    with app.app_context():
        try:
            result = import_cases(file, form_key, org_code, report, check_only)
        except ImportFailed as err:
            _fail(f"{file}: 未导入：{err}")
        except ImportRejected as rejected:
            shown = "\n".join(f"  {p}" for p in rejected.problems[:20])
            more = f"\n  …… 另有 {len(rejected.problems) - 20} 处" if len(rejected.problems) > 20 else ""
            _fail(f"{file}: 未导入任何行：共 {rejected.rows} 行，其中 {rejected.rejected} 行有问题：\n{shown}{more}\n"
                  f"问题行清单：{rejected.report}")
        except SQLAlchemyError as err:
            _fail(f"无法写入数据库（请先运行 fengqiao db upgrade）：{err.__class__.__name__}")
    if result.checked_only:
        click.echo(f"检查通过：{result.cases} 行均可导入（未写入）")
        return
    click.echo(f"已导入 {result.cases} 件事项（{result.numbers[0]} 至 {result.numbers[-1]}），"
               f"用时 {result.seconds:.1f} 秒（{result.rows_per_second:,.0f} 行/秒）")


@cases_group.command("anonymise")
@click.option("--dry-run", is_flag=True, help="Count what would be anonymised; change nothing.")
def cases_anonymise(dry_run: bool) -> None:
    """Anonymise closed cases past their case type's retention (retention.closed_days)."""
    from fengqiao.cases import retention
    from fengqiao.cases.case_types import case_type
    from fengqiao.db import db

    app = make_app()
    with app.app_context():
        result = retention.report() if dry_run else retention.anonymise_expired()
        db.commit()
        lines = [f"  {case_type(key).title}（{key}）：{n} 件" for key, n in sorted(result.counts.items())]
    verb = "将匿名化" if dry_run else "已匿名化"
    click.echo(f"{verb} {result.total} 件超过保存期限的已办结事项" + ("（试运行，未修改任何数据）" if dry_run else ""))
    for line in lines:
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
