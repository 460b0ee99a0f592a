"""Bulk case import against raw SQLAlchemy Core ``executemany`` of the same rows.

For each backend (a temporary SQLite file; throwaway databases on the local PostgreSQL,
dropped afterwards) ``FENGQIAO_BENCH_IMPORT_ROWS`` (default 100,000) 网格事件 rows are
written to a temporary UTF-8 CSV (``FENGQIAO_BENCH_IMPORT_FORMAT=xlsx`` for Excel) and:

- imported end to end with :func:`fengqiao.cases.importer.import_cases` (read the file,
  convert cells, validate every row with the form's validator, reserve numbers, compute
  deadlines, insert cases + submissions + ``submit`` events in one transaction);
- the baseline: the same rows, already converted, validated and with their column values
  built (untimed), inserted into the same three tables with plain Core ``executemany`` in
  one transaction on another fresh database (timed: the inserts and the commit only).

Target (issue 12): import ≥ 50 % of the baseline's rows/s.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import report
from servers import demo_app, two_databases

ROWS = int(os.environ.get("FENGQIAO_BENCH_IMPORT_ROWS", "100000"))
FORMAT = os.environ.get("FENGQIAO_BENCH_IMPORT_FORMAT", "csv")
TARGET = 0.5
LANYUE = "339901001001"
HEADER = ["事件标题", "事件类别", "紧急程度", "详细描述", "发生地点.详细地址", "楼栋/门牌", "涉及人数",
          "联系电话", "已自行处置", "所属单位"]
GRIDS = ["339901001001001", "339901001001002", ""]


def rows(n: int) -> Iterator[list]:
    urgency = ["一般", "紧急", "复杂", "疑难"]
    for i in range(n):
        yield [f"楼道堆物第{i}号", "市容环境" if i % 2 else "安全隐患", urgency[i % 4],
               f"揽月花园{i % 8 + 1}幢楼道堆放纸箱，第{i}次反映。", f"揽月花园{i % 8 + 1}幢",
               f"{i % 8 + 1}幢{i % 3 + 1}单元", str(i % 7), f"138{i:08d}", "否", GRIDS[i % 3]]


def write_source(folder: Path) -> Path:
    if FORMAT == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("cases")
        ws.append(HEADER)
        for row in rows(ROWS):
            ws.append(row)
        path = folder / "cases.xlsx"
        wb.save(path)
        return path
    path = folder / "cases.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(ROWS))
    return path


def baseline(url: str, folder: Path, source: Path) -> float:
    """Seconds for plain Core executemany of the already-validated rows (one transaction)."""
    from fengqiao.cases import creation, importer
    from fengqiao.cases.case_types import case_type
    from fengqiao.db import db, utcnow
    from fengqiao.forms import store

    app = demo_app(url, folder / "instance", [])
    try:
        with app.app_context():
            _form, version = store.published("grid-incident")
            unit = importer._units()[0][LANYUE]
            checked = importer.check(importer.read_table(source.read_bytes(), source.name), version, unit)
            assert not checked.problems, checked.problems[:3]
            ctype = case_type(version.definition["case_type"])
            now = utcnow()
            new_cases = importer._new_cases(version, ctype, checked.rows, now)
            cases, submissions, events = [], [], []
            for case_id, new in enumerate(new_cases, start=1):
                cases.append({**new.case, "id": case_id, "number": f"BX-{case_id:09d}", "tracking_code": "BENCH"})
                submissions.append({**new.submission, "case_id": case_id})
                events.append({**new.event, "case_id": case_id})
            db.rollback()
            engine = db.get_bind()
            began = time.perf_counter()
            with engine.begin() as conn:
                for first in range(0, len(cases), creation.BATCH):
                    conn.execute(creation.CASES.insert(), cases[first:first + creation.BATCH])
                    conn.execute(creation.SUBMISSIONS.insert(), submissions[first:first + creation.BATCH])
                    conn.execute(creation.EVENTS.insert(), events[first:first + creation.BATCH])
            return time.perf_counter() - began
    finally:
        app.extensions["fengqiao.db"].dispose()


def product(url: str, folder: Path, source: Path) -> tuple[float, dict[str, float]]:
    """Seconds for ``import_cases`` end to end, and its phases (informational)."""
    from fengqiao.cases import importer
    from fengqiao.forms import store

    app = demo_app(url, folder / "instance", [])
    try:
        with app.app_context():
            began = time.perf_counter()
            result = importer.import_cases(source, "grid-incident", org_code=LANYUE)
            total = time.perf_counter() - began
            assert result.cases == ROWS
        with app.app_context():  # the phases, re-run separately (reading and checking only)
            _form, version = store.published("grid-incident")
            unit = importer._units()[0][LANYUE]
            t0 = time.perf_counter()
            table = importer.read_table(source.read_bytes(), source.name)
            t1 = time.perf_counter()
            importer.check(table, version, unit)
            t2 = time.perf_counter()
        return total, {"read": t1 - t0, "convert+validate": t2 - t1}
    finally:
        app.extensions["fengqiao.db"].dispose()


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="fq-bench-import-") as tmp:
        folder = Path(tmp)
        source = write_source(folder)
        print(f"{ROWS:,} rows in a {FORMAT} file of {source.stat().st_size / 1e6:.1f} MB; "
              "3 rows per case (case, submission, submit event)")
        for backend in ("sqlite", "postgresql"):
            with two_databases(backend, folder, "import") as urls:
                if urls is None:
                    continue
                base = baseline(urls[0], folder / f"{backend}-base", source)
                total, phases = product(urls[1], folder / f"{backend}-import", source)
                results.append((backend, base, total, phases))
    print(f"{'backend':<11}{'baseline rows/s':>16}{'import rows/s':>15}{'ratio':>8}  {'target':<8}result")
    misses = []
    for backend, base, total, phases in results:
        ratio = base / total
        ok = ratio >= TARGET
        if not ok:
            misses.append(backend)
        print(f"{backend:<11}{ROWS / base:>16,.0f}{ROWS / total:>15,.0f}{ratio:>8.2f}  ≥ {TARGET:<6}"
              f"{'PASS' if ok else 'MISS'}")
        detail = ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
        print(f"{'':<11}baseline inserts {base:.1f} s; import {total:.1f} s ({detail})")
        report.record("import", f"{backend} {ROWS:,} rows: import vs Core executemany (rows/s)", ROWS / total,
                      ROWS / base, ratio, f"≥ {TARGET:.0%}", ok, unit="/s")
    if misses:
        print("MISSED: import speed on " + ", ".join(misses))


if __name__ == "__main__":
    main()
