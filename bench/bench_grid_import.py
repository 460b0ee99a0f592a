"""The grid plugin's Excel import of people against raw SQLAlchemy Core ``executemany``.

For each backend (a temporary SQLite file; throwaway databases on the local PostgreSQL,
dropped afterwards), two fresh databases get the demo county and the same rooms in 揽月花园's
grid (three people a room). ``FENGQIAO_BENCH_GRID_ROWS`` (default 10,000) people are written
to an .xlsx with the import template's Chinese headers, and:

- imported end to end through ``POST /api/v1/p/grid/people/import`` (upload, read the
  workbook with the sdk's bounded reader, check every row — ID number, relation, type, date,
  mobile, care tags, the room in the caller's scope, duplicates, people already living
  there, one head a household — then write households, people, stays and heads);
- the baseline: the same rows, with every id already known (untimed), inserted into the same
  three tables with plain Core ``executemany`` in one transaction (timed: the inserts and the
  commit only).

Target (issue 23): the import at ≥ 50 % of the baseline's rows/s.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import report
from servers import demo_app, two_databases

ROWS = int(os.environ.get("FENGQIAO_BENCH_GRID_ROWS", "10000"))
TARGET = 0.5
GRID = "339901001001001"  # 揽月花园1–8幢网格: zhangmin's
WORKER = "zhangmin"
PER_ROOM = 3
ROOMS_A_BUILDING = 4 * 11 * 2  # units × floors × rooms a floor
TAGS = ["", "", "", "", "", "", "", "高龄", "独居老人", "低保"]
RELATIONS = [("户主", "head"), ("配偶", "spouse"), ("子女", "child")]


def people(n: int) -> list[dict]:
    """``n`` synthetic people (valid-checksum fictitious ID numbers of area 339901)."""
    from fengqiao_grid.demo import fictitious_id

    out = []
    for i in range(n):
        born = date(1940, 1, 1) + timedelta(days=i // 1000 * 7)
        out.append({"room": i // PER_ROOM, "name": f"测试{i}", "id_card": fictitious_id(born, i % 1000),
                    "relation": RELATIONS[i % PER_ROOM], "mobile": f"139{i:08d}", "tag": TAGS[i % len(TAGS)],
                    "born": born})
    return out


def workbook(rows: list[dict], codes: list[str]) -> bytes:
    from fengqiao_grid.importer import HEADERS
    from openpyxl import Workbook

    # A normal (not write-only) workbook, as Excel or WPS save one: shared strings and a
    # <dimension>, blank cells not written at all.
    book = Workbook()
    sheet = book.active
    sheet.title = "实有人口"
    sheet.append(["实有人口导入"])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append([codes[r["room"]], None, None, None, None, r["name"], r["id_card"], r["relation"][0], "户籍",
                      "2020-05-01", r["mobile"], r["tag"] or None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def seed_rooms(app, n: int) -> list[tuple[int, str]]:
    """Rooms for ``n`` people in the grid (committed); returns (id, code) in code order."""
    from fengqiao_grid.demo import add_addresses

    from fengqiao.sdk.models import db, utcnow

    buildings = math.ceil(math.ceil(n / PER_ROOM) / ROOMS_A_BUILDING)
    with app.app_context():
        rooms = add_addresses([GRID], utcnow(), {GRID: [("基准小区", buildings, 4, 11, 2)]})
        db.commit()
    return [(r["id"], r["code"]) for r in rooms]


def baseline_seconds(app, rows: list[dict], rooms: list[tuple[int, str]]) -> float:
    """Plain Core executemany of the rows (ids known beforehand) into the three tables."""
    from fengqiao_grid.models import GridHousehold, GridPerson, GridResidence

    from fengqiao.sdk.models import db, utcnow

    now, moved_in = utcnow(), date(2020, 5, 1)
    households, persons, stays = [], [], []
    for number, r in enumerate(rows, start=1):
        room_id = rooms[r["room"]][0]
        if r["relation"][1] == "head":
            households.append({"id": len(households) + 1, "address_id": room_id, "head_person_id": number,
                               "rented": False, "landlord_name": "", "landlord_mobile": "", "created_at": now})
        persons.append({"id": number, "name": r["name"], "id_card": r["id_card"],
                        "gender": "M" if int(r["id_card"][16]) % 2 else "F", "birth_date": r["born"],
                        "mobile": r["mobile"], "address_id": room_id, "care_tags": "", "created_at": now,
                        "created_by": WORKER})
        stays.append({"person_id": number, "household_id": len(households), "address_id": room_id,
                      "relation": r["relation"][1], "residence_type": "registered", "moved_in_on": moved_in,
                      "moved_out_on": None, "moved_out_reason": "", "recorded_by": WORKER, "recorded_at": now,
                      "closed_by": None})
    with app.app_context():
        engine = db.get_bind()
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(GridHousehold.__table__.insert(), households)
            conn.execute(GridPerson.__table__.insert(), persons)
            conn.execute(GridResidence.__table__.insert(), stays)
        return time.perf_counter() - began


def import_seconds(app, content: bytes, expected: int) -> float:
    """The plugin's import end to end, through its API route (the upload included)."""
    from fengqiao.testing.plugin import api_token

    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, WORKER)}"}
    began = time.perf_counter()
    answer = client.post("/api/v1/p/grid/people/import", headers=headers,
                         data={"file": (io.BytesIO(content), "people.xlsx")}, content_type="multipart/form-data")
    seconds = time.perf_counter() - began
    assert answer.status_code == 201, answer.get_data(as_text=True)[:500]
    assert answer.get_json()["imported"] == expected
    return seconds


def read_seconds(content: bytes) -> float:
    """Reading the workbook alone, as the import does (the sdk's bounded reader: calamine, see fengqiao.tabular)."""
    from fengqiao_grid import importer

    from fengqiao.sdk.files import read_table

    began = time.perf_counter()
    read_table(content, "people.xlsx", rows=importer.READ_ROWS, columns=len(importer.COLUMNS) + 10,
               seconds=importer.READ_SECONDS)
    return time.perf_counter() - began


def compare(base_app, import_app, n: int) -> dict[str, float]:
    """Seconds of the baseline, of the import, of reading the file alone, and the file's bytes,
    for ``n`` people on two fresh apps."""
    rows = people(n)
    rooms = seed_rooms(base_app, n)
    assert seed_rooms(import_app, n) == rooms  # the same ids and codes in both databases
    content = workbook(rows, [code for _id, code in rooms])
    return {"baseline": baseline_seconds(base_app, rows, rooms), "import": import_seconds(import_app, content, n),
            "read": read_seconds(content), "bytes": len(content)}


def main() -> None:
    results = []
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix="fq-bench-grid-") as tmp, \
                two_databases(backend, tmp, "grid_import") as urls:
            if urls is None:
                continue
            apps = [demo_app(url, Path(tmp) / str(i), ["grid"]) for i, url in enumerate(urls)]
            try:
                results.append((backend, compare(apps[0], apps[1], ROWS)))
            finally:
                for app in apps:
                    app.extensions["fengqiao.db"].dispose()
    print(f"{ROWS:,} people in an .xlsx; 3 rows per person or household (household, person, stay)")
    print(f"{'backend':<11}{'baseline rows/s':>16}{'import rows/s':>15}{'ratio':>8}  {'target':<8}result")
    for backend, figures in results:
        base, total, read = figures["baseline"], figures["import"], figures["read"]
        ratio = base / total
        ok = ratio >= TARGET
        print(f"{backend:<11}{ROWS / base:>16,.0f}{ROWS / total:>15,.0f}{ratio:>8.2f}  ≥ {TARGET:<6}"
              f"{'PASS' if ok else 'MISS'}")
        print(f"{'':<11}file {figures['bytes'] / 1e6:.2f} MB; baseline inserts {base:.2f} s; import end to end "
              f"{total:.2f} s, of which reading the workbook alone takes {read:.2f} s")
        report.record("grid_import", f"{backend} {ROWS:,} people from Excel vs Core executemany (rows/s)",
                      ROWS / total, ROWS / base, ratio, f"≥ {TARGET:.0%}", ok, unit="/s")
        # information: the same import against reading the same file plus the raw inserts, i.e.
        # what checking every row and resolving the rooms cost over the least any Excel import does
        report.record("grid_import", f"{backend}: import vs read the .xlsx + Core executemany (rows/s)",
                      ROWS / total, ROWS / (read + base), (read + base) / total, "", None, unit="/s")


if __name__ == "__main__":
    main()
