"""``fengqiao db backup`` / ``db restore``: a live SQLite database through the online backup
API while another connection writes, and PostgreSQL through pg_dump/pg_restore; the restored
copy has the same cases, history and data."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengqiao.app import create_app
from fengqiao.backup import BackupError, backup, restore
from fengqiao.cases.synthetic import generate_cases
from fengqiao.db import make_engine
from fengqiao.demo_data import load_demo_data
from fengqiao.migrate import upgrade
from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import app_settings_for_tests

N = 300


def _cli(args: list[str], database_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return run_cli(args, {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing",
                          "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli-instance"), "FENGQIAO_PLUGINS": ""})


def _populate(url: str, tmp_path: Path) -> None:
    """Migrate, load the demo county and N synthetic cases (states, deadlines, history)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    app = create_app(app_settings_for_tests(url, tmp_path))
    try:
        with app.app_context():
            load_demo_data()
            generate_cases(N, seed=12)
    finally:
        app.extensions["fengqiao.db"].dispose()


def _snapshot(url: str) -> dict:
    """Counts, and number/state/data/deadline of 20 cases spread over the table."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                      for t in ("cases", "case_events", "case_participants", "users", "org_units")}
            sample = conn.execute(sa.text(
                "SELECT number, state, data, deadline, urge_count FROM cases WHERE id % 15 = 0 ORDER BY id"
            )).all()
            urges = conn.execute(sa.text(
                "SELECT c.number, c.urge_count, (SELECT count(*) FROM case_events e "
                "WHERE e.case_id = c.id AND e.action = 'urge') FROM cases c")).all()
    finally:
        engine.dispose()
    return {"counts": counts, "sample": [tuple(r) for r in sample], "urges": urges}


class Writer:
    """A second connection urging cases non-stop: each transaction adds an ``urge`` event and
    bumps the case's urge_count, so a consistent copy has the two equal for every case."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.done = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ids = []
        with self.engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT id FROM cases ORDER BY id")).scalars().all()
        while not self.stop.is_set():
            case_id = ids[self.done % len(ids)]
            with self.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO case_events (case_id, at, action, comment, changes, internal) "
                                     "VALUES (:id, CURRENT_TIMESTAMP, 'urge', '催办', '{}', 0)"), {"id": case_id})
                conn.execute(sa.text("UPDATE cases SET urge_count = urge_count + 1 WHERE id = :id"), {"id": case_id})
            self.done += 1

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(10)
        self.engine.dispose()


def test_sqlite_backup_while_another_connection_writes(tmp_path):
    live = f"sqlite:///{tmp_path / 'live.db'}"
    _populate(live, tmp_path)
    before = _snapshot(live)
    copy = tmp_path / "backups" / "fengqiao-backup.db"
    with Writer(live) as writer:
        while writer.done < 20:
            time.sleep(0.01)
        started = writer.done
        done = _cli(["db", "backup", str(copy)], live, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "已备份到" in done.stdout
        time.sleep(0.1)
        assert writer.done > started + 5  # the writer was never held up for long
    assert copy.exists() and not copy.with_name(copy.name + ".part").exists()
    restored = f"sqlite:///{tmp_path / 'restored' / 'fengqiao.db'}"
    done = _cli(["db", "restore", str(copy)], restored, tmp_path)
    assert done.returncode == 0, done.stderr
    after = _snapshot(restored)
    assert all(urged == events for _n, urged, events in after["urges"])  # a consistent moment
    copied = sum(urged for _n, urged, _e in after["urges"])
    assert started <= copied <= writer.done
    assert after["counts"] == {**before["counts"], "case_events": before["counts"]["case_events"] + copied}
    assert len(before["sample"]) == 20
    assert [r[:4] for r in after["sample"]] == [r[:4] for r in before["sample"]]
    # a database with data is never overwritten by accident
    refused = _cli(["db", "restore", str(copy)], live, tmp_path)
    assert refused.returncode == 1
    assert "目标数据库不是空的" in refused.stderr and "--force" in refused.stderr
    assert _snapshot(live)["counts"]["case_events"] == before["counts"]["case_events"] + writer.done
    forced = _cli(["db", "restore", "--force", str(copy)], live, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert _snapshot(live) == after


def test_restore_refuses_files_that_are_not_backups(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("不是数据库", encoding="utf-8")
    with pytest.raises(BackupError, match="不是 SQLite 备份文件"):
        restore(f"sqlite:///{tmp_path / 'new.db'}", junk)
    with pytest.raises(BackupError, match="不是 pg_dump"):
        restore("postgresql+psycopg://nobody@127.0.0.1:1/none", junk)
    with pytest.raises(BackupError, match="SQLite 数据库文件不存在"):
        backup(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "b.db")


def test_missing_pg_tools_are_named_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # the only way to make the tools absent here
    monkeypatch.setattr("fengqiao.backup.glob.glob", lambda _pattern: [])
    with pytest.raises(BackupError, match="找不到 pg_dump：请安装 PostgreSQL 客户端"):
        backup("postgresql+psycopg://postgres@127.0.0.1:5432/whatever", tmp_path / "x.dump")


def test_postgresql_dump_and_restore_into_another_database(pg_server, tmp_path):
    source_name, target_name = pg_server.create_database(), pg_server.create_database()
    try:
        source, target = pg_server.url(source_name), pg_server.url(target_name)
        _populate(source, tmp_path)
        before = _snapshot(source)
        dump = backup(source, tmp_path / "fengqiao.dump")
        assert dump.path.read_bytes()[:5] == b"PGDMP" and dump.backend == "postgresql"
        restore(target, dump.path)
        after = _snapshot(target)
        assert after["counts"] == before["counts"] and before["counts"]["cases"] == N
        assert after["sample"] == before["sample"] and len(after["sample"]) == 20
        with pytest.raises(BackupError, match="目标数据库不是空的"):
            restore(target, dump.path)
        restore(target, dump.path, force=True)  # --clean --if-exists: same result again
        assert _snapshot(target) == before
        engine = make_engine(target)  # the restored database is usable: sequences continue
        try:
            with engine.begin() as conn:
                next_id = conn.execute(sa.text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")).scalar_one()
                assert next_id > conn.execute(sa.text("SELECT max(id) FROM cases")).scalar_one()
        finally:
            engine.dispose()
    finally:
        pg_server.drop_database(source_name)
        pg_server.drop_database(target_name)
