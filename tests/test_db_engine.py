"""The PostgreSQL engine (fengqiao/db.py): prepared statements on, planned with their values;
pooled connections checked only after sitting idle."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import make_engine

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

UNITS = 4_000  # enough rows for the planner to prefer the path index over a scan


def _county(engine) -> None:
    from fengqiao.models import OrgUnit

    rows = [{"code": "C", "name": "县", "level": "county", "kind": "territorial", "path": "/C/", "depth": 0}]
    for s in range(UNITS // 100):  # 40 streets of 99 communities
        street = f"/C/S{s:02d}/"
        rows.append({"code": f"S{s:02d}", "name": "街道", "level": "street", "kind": "territorial",
                     "path": street, "depth": 1})
        rows += [{"code": f"S{s:02d}C{c:02d}", "name": "社区", "level": "community", "kind": "territorial",
                  "path": f"{street}S{s:02d}C{c:02d}/", "depth": 2} for c in range(99)]
    with engine.begin() as conn:
        conn.execute(sa.insert(OrgUnit).values(active=True, created_at=sa.func.now()), rows)
        conn.exec_driver_sql("ANALYZE org_units")


def test_scope_queries_are_prepared_and_still_planned_on_the_path_index(database_url):
    from fengqiao.models import OrgUnit
    from fengqiao.orgs.scope import Scope

    engine = make_engine(database_url)
    try:
        _county(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
            for street in range(12):  # prepared on the fifth run; generic plans would start after five more
                scope = Scope((f"/C/S{street:02d}/",))
                ids = conn.execute(sa.select(OrgUnit.id).where(scope.clause(OrgUnit.path))).scalars().all()
                assert len(ids) == 100
            prepared = conn.execute(sa.text("SELECT name FROM pg_prepared_statements WHERE statement LIKE :text"),
                                    {"text": "%org_units.path >=%"}).scalars().all()
            assert prepared, "the scope query was never prepared"
            plan = "\n".join(conn.exec_driver_sql(
                f"EXPLAIN EXECUTE {prepared[0]}('/C/S03/', '/C/S030')").scalars())
    finally:
        engine.dispose()
    assert "ix_org_units_path" in plan, plan
    assert "'/C/S03/'" in plan and "$1" not in plan, plan  # a custom plan: the values, not placeholders


def test_a_connection_dropped_while_idle_is_replaced_before_use(app, monkeypatch):
    from fengqiao import db as db_module

    engine = app.extensions["fengqiao.db"].engine
    with engine.connect() as conn:
        victim = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with make_engine(app.extensions["fengqiao.settings"].database_url).connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({victim})")
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it had sat idle for a while
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != victim
