"""The test kit's own shortcuts (fengqiao.testing): a test starts from exactly what it would
have built itself, whatever the test before it left behind, and its app is the same app."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from fengqiao.db import make_engine

PLUGINS = ("certificates", "points", "volunteer")


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every table's rows in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            return {table.name: conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
                    for table in metadata.sorted_tables if table.name != "alembic_version"}
    finally:
        engine.dispose()


def _varying(first: dict[str, list[tuple]], second: dict[str, list[tuple]]) -> dict[str, set[int]]:
    """Per table, the columns two loads of the demo fill differently (timestamps, password
    salts, random tokens): the ones a snapshot cannot reproduce either."""
    varying = {}
    for table, rows in first.items():
        assert len(rows) == len(second[table]), table
        varying[table] = {i for a, b in zip(rows, second[table], strict=True)
                          for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}
    return varying


def _masked(dump: dict[str, list[tuple]], varying: dict[str, set[int]]) -> dict[str, list[tuple]]:
    return {table: [tuple(None if i in varying[table] else v for i, v in enumerate(row)) for row in rows]
            for table, rows in dump.items()}


def _next_ids(url: str) -> dict[str, int]:
    """PostgreSQL: the value each sequence hands out next."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            names = conn.scalars(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))
            return {name: conn.scalar(sa.text("SELECT nextval(:n)"), {"n": name}) for name in names.all()}
    finally:
        engine.dispose()


def _empty_again(request, database_url: str) -> None:
    """The test's database back to just migrated, as ``database_url`` makes it."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(request.getfixturevalue("_sqlite_templates").migrated, database_url.removeprefix("sqlite:///"))
    else:
        request.getfixturevalue("_pg_database").reset()


@pytest.mark.plugins(*PLUGINS)
def test_the_demo_snapshot_is_what_loading_the_demo_writes(request, demo, database_url):
    from fengqiao.demo_data import load_demo_data

    def load_afresh() -> dict[str, list[tuple]]:
        _empty_again(request, database_url)
        assert not _rows(database_url)["users"]
        with demo.app_context():
            load_demo_data()
        demo.extensions["fengqiao.db"].dispose()
        return _rows(database_url)

    demo.extensions["fengqiao.db"].dispose()
    restored = _rows(database_url)
    restored_ids = _next_ids(database_url) if database_url.startswith("postgresql") else None
    loaded, again = load_afresh(), load_afresh()
    varying = _varying(loaded, again)

    assert _masked(restored, varying) == _masked(loaded, varying)
    assert loaded["users"] and loaded["form_versions"] and loaded["case_type_versions"]
    assert any("certificate" in repr(row) for row in loaded["forms"]), "the plugins' forms are published"
    assert all(len(varying[t]) < len(loaded[t][0]) for t in ("users", "org_units", "forms", "form_versions"))
    if restored_ids is not None:
        assert restored_ids == _next_ids(database_url)


def test_a_test_starts_empty_with_sequences_restarted(request, app, database_url):
    from fengqiao.db import db
    from fengqiao.orgs.service import create_unit

    for _ in range(2):  # the second round starts from what the first one left
        with app.app_context():
            assert db.scalar(sa.text("SELECT count(*) FROM org_units")) == 0
            assert create_unit("339901", "测试县", "county", None).id == 1
            db.commit()
        app.extensions["fengqiao.db"].dispose()
        _empty_again(request, database_url)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_session_left_idle_in_transaction_does_not_block_the_reset(request, database_url):
    engine = sa.create_engine(database_url)
    leftover = engine.connect()
    leftover.execute(sa.text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))  # and never ends
    try:
        request.getfixturevalue("_pg_database").reset()
        with pytest.raises(sa.exc.OperationalError):
            leftover.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_a_reset_keeps_the_rows_the_migrations_wrote(request, database_url, empty_database_url):
    from fengqiao.testing.databases import migrate

    migrate(empty_database_url)
    fresh = {table: len(rows) for table, rows in _rows(empty_database_url).items()}
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:  # a test writes into every table that holds migration rows
        for table in [t for t, n in fresh.items() if n]:
            conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
    engine.dispose()
    request.getfixturevalue("_pg_database").reset()
    assert {table: len(rows) for table, rows in _rows(database_url).items()} == fresh


@pytest.mark.plugins("certificates", "points", "vanguard", "volunteer")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_url_builders_are_compiled_once_and_the_same(app, tmp_path):
    from werkzeug.routing.rules import Rule

    from fengqiao.app import create_app
    from fengqiao.testing.plugin import app_settings_for_tests

    compile_builder = Rule._compile_builder.__wrapped__  # what Werkzeug itself does
    settings = app.extensions["fengqiao.settings"]
    again = create_app(app_settings_for_tests(settings.database_url, tmp_path, plugins=list(app.extensions["fengqiao.plugins"])))
    rules = {r.rule + repr(sorted(r.methods or ())): r for r in app.url_map.iter_rules()}
    assert len(rules) > 200
    for rule in again.url_map.iter_rules():
        first = rules[rule.rule + repr(sorted(rule.methods or ()))]
        assert rule._build.__func__ is first._build.__func__  # compiled once per process
        assert rule._build.__func__.__code__ == compile_builder(rule, False).__code__
        assert rule._build_unknown.__func__.__code__ == compile_builder(rule, True).__code__
    with again.test_request_context():
        from flask import url_for

        assert url_for("static", filename="a b.css") == "/static/a%20b.css"
    again.extensions["fengqiao.db"].dispose()
