"""Back up and restore the database: SQLite's online backup API, PostgreSQL's own tools.

A county's case files are its records; a backup has to be taken while the app serves and
a restore must never silently overwrite live data. SQLite is copied page by page through
``sqlite3.Connection.backup`` (consistent even while other connections write; the copy is
written beside the target and renamed, so a half-written backup never carries its name).
PostgreSQL goes through ``pg_dump -Fc`` / ``pg_restore --clean --if-exists --no-owner``
in one transaction, with the connection parameters taken from the URL and a password, if
any, passed in ``PGPASSWORD`` (never on the command line, where ``ps`` shows it).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

# Tables whose rows mean the database is in use: a restore over them needs --force.
LIVE_TABLES = (("org_units", "个单位"), ("users", "个用户"), ("cases", "件事项"), ("submissions", "份提交"))
PAGES_PER_STEP = 1024  # the online backup yields to writers between steps


class BackupError(RuntimeError):
    """A backup or restore that did not happen; the message says why, in Chinese."""


@dataclass(frozen=True)
class Done:
    path: Path
    bytes: int
    backend: str


def _url(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except sa.exc.ArgumentError as err:
        raise BackupError(f"数据库地址无效：{err}") from err


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复")
    return Path(url.database).expanduser()


def in_use(database_url: str) -> list[str]:
    """What the database already holds (``["3 个单位", …]``); empty when a restore may proceed."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            held = []
            for table, noun in LIVE_TABLES:
                if table in tables:
                    count = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()  # noqa: S608
                    if count:
                        held.append(f"{count} {noun}")
            return held
    except sa.exc.OperationalError as err:
        raise BackupError(f"无法连接目标数据库：{err.orig or err}") from err
    finally:
        engine.dispose()


# ---- SQLite ----------------------------------------------------------------------------------


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target, pages=PAGES_PER_STEP)


def _sqlite_backup(url: URL, path: Path) -> Done:
    database = _sqlite_file(url)
    if not database.exists():
        raise BackupError(f"SQLite 数据库文件不存在：{database}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            _copy(source, target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
    except sqlite3.Error as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"SQLite 备份失败：{err}") from err
    finally:
        source.close()
    partial.replace(path)
    return Done(path, path.stat().st_size, "sqlite")


def _check_magic(path: Path, magic: bytes, wrong_kind: str) -> None:
    """The file starts the way this kind of backup does (else ``wrong_kind`` is the message)."""
    try:
        with open(path, "rb") as f:
            found = f.read(len(magic))
    except OSError as err:
        raise BackupError(f"无法读取备份文件 {path}：{err.strerror or err}") from err
    if found != magic:
        raise BackupError(f"{path} {wrong_kind}")


def _check_sqlite_file(path: Path) -> None:
    _check_magic(path, b"SQLite format 3\x00", "不是 SQLite 备份文件（PostgreSQL 的备份请恢复到 PostgreSQL）")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as err:
        raise BackupError(f"备份文件已损坏：{err}") from err
    finally:
        conn.close()
    if result != "ok":
        raise BackupError(f"备份文件已损坏：{result}")


def _sqlite_restore(url: URL, path: Path) -> Done:
    database = _sqlite_file(url)
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(database, timeout=30)
        try:
            _copy(source, target)  # through the target's own connection: its WAL stays consistent
        finally:
            target.close()
    except sqlite3.Error as err:
        raise BackupError(f"SQLite 恢复失败：{err}") from err
    finally:
        source.close()
    return Done(database, database.stat().st_size, "sqlite")


# ---- PostgreSQL ------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（如 apt-get install postgresql-client），"
                          "或把它所在的目录加入 PATH")
    return found


def _pg_connection(url: URL) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for the libpq tools; the password only in the env."""
    args = ["--no-password"]
    host = url.query.get("host") or url.host
    if isinstance(host, tuple):
        host = host[0]
    if host:
        args += ["--host", host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    if not url.database:
        raise BackupError("PostgreSQL 地址中缺少数据库名")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, var in (("sslmode", "PGSSLMODE"), ("connect_timeout", "PGCONNECT_TIMEOUT")):
        if url.query.get(key):
            env[var] = str(url.query[key])
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as err:
        raise BackupError(f"无法运行 {command[0]}：{err}") from err
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{what}失败（{Path(command[0]).name} 退出码 {done.returncode}）：" + " / ".join(detail))


def _pg_backup(url: URL, path: Path) -> Done:
    args, env = _pg_connection(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *args, "--dbname", url.database],
             env, "PostgreSQL 备份")
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return Done(path, path.stat().st_size, "postgresql")


def _check_pg_file(path: Path) -> None:
    _check_magic(path, b"PGDMP", "不是 pg_dump -Fc 备份文件（SQLite 的备份请恢复到 SQLite）")


def _pg_restore(url: URL, path: Path) -> Done:
    args, env = _pg_connection(url)
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", *args, "--dbname", url.database, str(path)], env, "PostgreSQL 恢复")
    return Done(path, path.stat().st_size, "postgresql")


# ---- the service -----------------------------------------------------------------------------


def backup(database_url: str, path: Path) -> Done:
    """Write a backup of the database at ``database_url`` to ``path``."""
    url = _url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(url, path)
    if url.get_backend_name() == "postgresql":
        return _pg_backup(url, path)
    raise BackupError(f"不支持的数据库：{url.get_backend_name()}")


def restore(database_url: str, path: Path, force: bool = False) -> Done:
    """Restore ``path`` into the database; refuses a database in use unless ``force``."""
    url = _url(database_url)
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库：{backend}")
    (_check_sqlite_file if backend == "sqlite" else _check_pg_file)(path)
    if not force and (backend != "sqlite" or _sqlite_file(url).exists()):
        held = in_use(database_url)
        if held:
            raise BackupError(f"目标数据库不是空的（已有 {'、'.join(held)}）：恢复会覆盖这些数据，"
                              "确认要覆盖请加 --force")
    return _sqlite_restore(url, path) if backend == "sqlite" else _pg_restore(url, path)
