"""Scoped subtree query (materialized-path range scan) vs an unscoped primary-key scan.

Builds a county with 20 streets × 20 communities × 10 grids (4,421 units) in SQLite and
times listing one community's subtree through the scoping function against fetching the
same number of rows by primary key: the ratio shows the scope costs an index range scan,
not a table scan.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import report
import sqlalchemy as sa

from fengqiao.db import make_engine
from fengqiao.migrate import upgrade
from fengqiao.models import OrgUnit
from fengqiao.orgs.scope import Scope


def _build(engine) -> None:
    rows = [{"code": "C", "name": "县", "level": "county", "kind": "territorial", "path": "/C/", "depth": 0}]
    for s in range(20):
        sp = f"/C/S{s:02d}/"
        rows.append({"code": f"S{s:02d}", "name": "街道", "level": "street", "kind": "territorial", "path": sp, "depth": 1})
        for c in range(20):
            cp = f"{sp}S{s:02d}C{c:02d}/"
            rows.append({"code": f"S{s:02d}C{c:02d}", "name": "社区", "level": "community", "kind": "territorial", "path": cp, "depth": 2})
            for g in range(10):
                code = f"S{s:02d}C{c:02d}G{g}"
                rows.append({"code": code, "name": "网格", "level": "grid", "kind": "territorial", "path": f"{cp}{code}/", "depth": 3})
    now = sa.func.current_timestamp()
    with engine.begin() as conn:
        conn.execute(sa.insert(OrgUnit).values(active=True, created_at=now), rows)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        _build(engine)
        scope = Scope(("/C/S07/S07C11/",))
        scoped = sa.select(OrgUnit.id).where(scope.clause(OrgUnit.path))
        with engine.connect() as conn:
            n = len(conn.execute(scoped).all())
            baseline = sa.select(OrgUnit.id).where(OrgUnit.id.between(2000, 2000 + n - 1))
            timings = {"scoped": [], "baseline": []}
            for _ in range(300):
                for name, stmt in (("scoped", scoped), ("baseline", baseline)):
                    t = time.perf_counter()
                    conn.execute(stmt).all()
                    timings[name].append((time.perf_counter() - t) * 1000)
        engine.dispose()
    s, b = _p95(timings["scoped"]), _p95(timings["baseline"])
    print(f"subtree rows: {n}; p95 scoped {s:.3f} ms vs primary-key range {b:.3f} ms; ratio {s / b:.2f}x")
    report.record("scope", f"subtree p95 ({n} rows) vs primary-key range", s, b, s / b,
                  "(information)", unit=" ms")


if __name__ == "__main__":
    main()
