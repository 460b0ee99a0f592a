"""Bulk import of cases (``fengqiao cases import``): Chinese Excel/CSV files as people make
them, every row checked like a submission, all rows written or none."""

from __future__ import annotations

import csv
import subprocess
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.cases import sla
from fengqiao.cases.importer import ImportRejected, import_cases
from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import Case, CaseCounter, CaseEvent, OrgUnit, Submission
from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import submit_form

LANYUE, QIAODONG, GARDEN_GRID = "339901001001", "339901001002", "339901001001001"
N = 300
HEADER = ["事件标题", "事件类别", "紧急程度", "详细描述", "发生地点.详细地址", "楼栋/门牌", "涉及人数",
          "联系电话", "已自行处置", "所属单位"]
URGENCY = ["一般", "紧急", "复杂", "疑难"]  # titles of the coded choices normal/urgent/complex/difficult
CODES = {"一般": "normal", "紧急": "urgent", "复杂": "complex", "疑难": "difficult"}


def _rows(n: int) -> list[list]:
    """Rows as a clerk types them: choice titles, 是/否, counts as text, some rows without a unit."""
    rows = []
    for i in range(n):
        rows.append([f"楼道堆物第{i}号", "市容环境" if i % 2 else "安全隐患", URGENCY[i % 4],
                     f"揽月花园{i % 8 + 1}幢楼道堆放纸箱，第{i}次反映。", f"揽月花园{i % 8 + 1}幢",
                     f"{i % 8 + 1}幢{i % 3 + 1}单元" if i % 5 else "", str(i % 7) if i % 3 else "",
                     f"1380000{i:04d}", "否" if i % 4 else "", GARDEN_GRID if i % 3 == 0 else ""])
    return rows


def _write_csv(path: Path, rows: list[list], encoding: str) -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def _count(model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def _cli(args: list[str], database_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return run_cli(args, {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing",
                          "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli-instance"), "FENGQIAO_PLUGINS": ""})


def test_gbk_csv_opens_cases_like_submissions(demo, client, bearer, tmp_path):
    source = _write_csv(tmp_path / "网格事件.csv", _rows(N), "gb18030")
    with pytest.raises(UnicodeDecodeError):
        source.read_bytes().decode("utf-8")  # really GBK, as Excel's 「CSV」 saves it in China
    with demo.app_context():
        result = import_cases(source, "grid-incident", org_code=LANYUE)
        assert result.cases == N
        cases = db.scalars(sa.select(Case).order_by(Case.id)).all()
        assert [c.number for c in cases] == result.numbers
        day = cases[0].created_at.astimezone(LOCAL_TZ).strftime("%Y%m%d")
        assert result.numbers == [f"WG-{day}-{i:06d}" for i in range(1, N + 1)]
        assert db.scalar(sa.select(CaseCounter.last).where(CaseCounter.prefix == "WG",
                                                           CaseCounter.day == day)) == N
        units = dict(db.execute(sa.select(OrgUnit.id, OrgUnit.code)).all())
        for i, case in enumerate(cases):
            assert case.state == "reported" and case.type == "grid_incident" and case.version == 1
            assert case.title == f"楼道堆物第{i}号" and case.phone_tail == f"{i:04d}"[-4:]
            assert case.data["urgency"] == CODES[URGENCY[i % 4]] == case.priority
            assert case.data["location"]["address"] == f"揽月花园{i % 8 + 1}幢"
            assert case.data.get("people_involved") == (i % 7 if i % 3 else None)
            assert case.data.get("handled_on_spot") == (False if i % 4 else None)
            assert units[case.org_id] == (GARDEN_GRID if i % 3 == 0 else LANYUE)
            limit = {"normal": {"working_days": 3}, "urgent": {"hours": 24}, "complex": {"working_days": 7},
                     "difficult": {"working_days": 15}}[case.priority]
            assert case.sla_limit == limit and case.sla_start == case.created_at
            assert case.deadline == sla.deadline_for(case.created_at, limit, 0, case.org.path).at
            assert case.sla_status in ("on_track", "due_soon")
        events = db.execute(sa.select(CaseEvent.case_id, CaseEvent.action, CaseEvent.to_state,
                                      CaseEvent.actor_id, CaseEvent.changes)).all()
        assert sorted(e.case_id for e in events) == [c.id for c in cases]
        assert {(e.action, e.to_state, e.actor_id, e.changes["channel"]) for e in events} == {
            ("submit", "reported", None, "import")}
        subs = db.execute(sa.select(Submission.case_id, Submission.channel, Submission.data)).all()
        assert {s.channel for s in subs} == {"import"} and len(subs) == N
        assert {s.case_id: s.data for s in subs} == {c.id: c.data for c in cases}
    staff = bearer("shenli")  # 揽月社区: its own cases and its grids'
    numbers, cursor = [], None
    while True:
        page = client.get("/api/v1/cases", query_string={"view": "unclaimed", **({"cursor": cursor} if cursor else {})},
                          headers=staff).get_json()
        numbers += [c["number"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(numbers) == result.numbers
    detail = client.get(f"/api/v1/cases/{result.numbers[1]}", headers=staff).get_json()
    assert detail["data"]["summary"] == "楼道堆物第1号"
    later = submit_form(client, "livelihood-request", {  # a live submission takes the next serial
        "request_type": "help", "summary": "求助", "content": "求助内容", "caller_name": "陈", "caller_mobile": "13900000000",
    }, org=QIAODONG)
    assert later["case_number"].endswith("-000001")  # another prefix: its own counter
    with demo.app_context():
        again = import_cases(source, "grid-incident", org_code=LANYUE)
        assert again.numbers[0] == f"WG-{day}-{N + 1:06d}"


def test_xlsx_through_the_cli(demo, database_url, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["说明：本表由旧系统导出"])  # a title row above the header, as exports often have
    ws.append(["summary", "category", "紧急程度", "description", "详细地址", "people_involved", "联系电话",
               "已自行处置", "org"])
    for i in range(50):  # cells as Excel stores them: numbers, booleans
        ws.append([f"井盖缺失{i}", "安全隐患", "urgent" if i % 2 else "一般", "湖滨路井盖缺失", "湖滨路12号",
                   float(i), 13800000000 + i, False, int(QIAODONG) if i % 2 else QIAODONG])
    source = tmp_path / "cases.xlsx"
    wb.save(source)
    checked = _cli(["cases", "import", str(source), "--form", "grid-incident", "--check-only"], database_url, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "检查通过：50 行均可导入（未写入）" in checked.stdout
    with demo.app_context():
        assert _count(Case) == 0
    done = _cli(["cases", "import", str(source), "--form", "grid-incident"], database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "已导入 50 件事项" in done.stdout and "行/秒" in done.stdout
    with demo.app_context():
        cases = db.scalars(sa.select(Case).order_by(Case.id)).all()
        assert len(cases) == 50
        assert {c.org.code for c in cases} == {QIAODONG}
        assert cases[3].data == {"summary": "井盖缺失3", "category": "安全隐患", "urgency": "urgent",
                                 "description": "湖滨路井盖缺失", "location": {"address": "湖滨路12号"},
                                 "people_involved": 3, "reporter_mobile": "13800000003",
                                 "handled_on_spot": False}
        assert cases[3].deadline == cases[3].created_at + timedelta(hours=24)


def test_one_bad_row_rejects_the_file_with_a_report(demo, database_url, tmp_path):
    rows = _rows(120)
    rows[57][7] = "1380000"  # 联系电话 too short: the form's own message
    source = _write_csv(tmp_path / "import.csv", rows, "utf-8-sig")
    report = tmp_path / "out" / "rejected.xlsx"
    done = _cli(["cases", "import", str(source), "--form", "grid-incident", "--org", LANYUE,
                 "--report", str(report)], database_url, tmp_path)
    assert done.returncode == 1
    assert "未导入任何行" in done.stderr and "第 59 行 联系电话：请输入 11 位手机号码" in done.stderr
    assert str(report) in done.stderr
    with demo.app_context():
        assert (_count(Case), _count(Submission), _count(CaseEvent), _count(CaseCounter)) == (0, 0, 0, 0)
    sheet = openpyxl.load_workbook(report).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("行号", *HEADER, "问题")
    assert len(values) == 2
    assert values[1][0] == 59 and values[1][1] == "楼道堆物第57号" and values[1][8] == "1380000"
    assert values[1][-1] == "联系电话：请输入 11 位手机号码"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_kind_of_problem_is_named_in_chinese(demo, tmp_path):
    rows = _rows(6)
    rows[0][1] = "不存在的类别"  # not one of the choices
    rows[1][2] = "特急"  # neither a title nor a code
    rows[2][6] = "三个"  # not a whole number
    rows[3][8] = "也许"  # not 是/否
    rows[4][9] = "999999"  # no such unit
    rows[5][4] = ""  # a required nested field left empty
    source = _write_csv(tmp_path / "bad.csv", rows, "utf-8")
    with demo.app_context(), pytest.raises(ImportRejected) as caught:
        import_cases(source, "grid-incident", org_code=LANYUE)
    found = {(p.row, p.column, p.message) for p in caught.value.problems}
    assert found == {
        (2, "事件类别", "请从给定选项中选择"),
        (3, "紧急程度", "请从给定选项中选择"),
        (4, "涉及人数", "应填写整数"),
        (5, "已自行处置", "应填写是/否"),
        (6, "所属单位", "单位「999999」不存在、已停用或不是属地单位"),
        (7, "发生地点.详细地址", "此项为必填项"),
    }
    assert caught.value.report == tmp_path / "bad.问题行.xlsx" and caught.value.report.exists()
    assert caught.value.rejected == 6 and caught.value.rows == 6
    header = tmp_path / "header.csv"
    header.write_text("事件标题,颜色,现场照片\n路灯,红,a.jpg\n", encoding="utf-8")
    with demo.app_context(), pytest.raises(ImportRejected) as caught:
        import_cases(header, "grid-incident", org_code=LANYUE)
    messages = {(p.row, p.column): p.message for p in caught.value.problems}
    assert messages[(1, "颜色")] == "未知的列：表单「网格事件上报」没有这个字段"
    assert messages[(2, "现场照片")].startswith("批量导入不支持附件")
    assert messages[(2, "事件类别")] == "此项为必填项"
    with demo.app_context():
        assert _count(Case) == 0
