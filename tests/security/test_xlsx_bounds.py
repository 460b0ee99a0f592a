"""Bounded spreadsheet imports (issue 17, finding 4).

A 5 KB .xlsx whose sheet claims ``A1:XFD200000`` kept an import busy for minutes (and
SQLite's write lock with it): openpyxl padded every row to the claimed size. Every import
now reads through :mod:`fengqiao.tabular`, which counts what it actually reads. Each entry
point below must answer such a file in under two seconds with a Chinese refusal; the
first test of each kind was seen failing (timeout/MemoryError or silent data loss) before
the reader existed.
"""

from __future__ import annotations

import io
import time

import pytest
from click.testing import CliRunner

from fengqiao.cases.importer import ImportFailed, import_cases
from fengqiao.errors import ValidationFailed
from fengqiao.tabular import read_table
from fengqiao.testing.plugin import csrf_token
from fengqiao.testing.workbooks import (
    empty_cells,
    far_row,
    forged_dimension,
    rewrite_sheet,
    unpacking_bomb,
    wide_row,
    workbook,
)
from fengqiao.workcalendar import arrangement

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

QUICK = 2.0  # seconds: the acceptance bound for a refusal
ARRANGEMENT = [["日期", "类型", "名称"], ["2027-01-01", "放假", "元旦"]]
CASES = [["事件标题", "事件类别", "紧急程度", "详细描述", "发生地点.详细地址", "所属单位"],
         ["路灯不亮", "市容环境", "一般", "东湖路路灯不亮", "东湖路 1 号", "339901001001"]]


class Clock:
    def __enter__(self):
        # CPU time of this process (the request runs in it): what the refusal cost, not how long
        # other test processes kept the CPU busy
        self.began = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.process_time() - self.began
        return False


def _cli(app, args: list[str]):
    from fengqiao.cli import main

    url = app.extensions["fengqiao.db"].engine.url.render_as_string(hide_password=False)
    env = {"FENGQIAO_MODE": "testing", "FENGQIAO_DATABASE_URL": url,
           "FENGQIAO_INSTANCE_PATH": app.instance_path, "FENGQIAO_PLUGINS": ""}
    return CliRunner().invoke(main, args, env=env)


# ---- the forged dimension at every entry point -----------------------------------------------


@SQLITE
def test_calendar_import_refuses_a_forged_dimension_quickly(app):
    data = forged_dimension(ARRANGEMENT)
    assert len(data) < 8_000  # the attack is a small file
    with app.app_context(), Clock() as clock, pytest.raises(arrangement.ArrangementInvalid) as refused:
        arrangement.import_arrangement(data, "2027.xlsx")
    assert clock.seconds < QUICK
    assert "A1:XFD200000" in str(refused.value) and "最多 1,010 行" in str(refused.value)


@SQLITE
def test_calendar_cli_refuses_a_forged_dimension_quickly(app, tmp_path):
    source = tmp_path / "2027.xlsx"
    source.write_bytes(forged_dimension(ARRANGEMENT))
    with Clock() as clock:
        result = _cli(app, ["calendar", "import", str(source)])
    assert clock.seconds < QUICK + 1  # the CLI also builds an app
    assert result.exit_code == 1 and "超过上限" in result.output, result.output


@SQLITE
def test_calendar_admin_page_refuses_a_forged_dimension_quickly(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/calendar")
    with Clock() as clock:
        response = client.post("/admin/calendar/import", data={
            "csrf_token": token, "year": "2027", "org": "",
            "arrangement_file": (io.BytesIO(forged_dimension(ARRANGEMENT)), "2027.xlsx")},
            content_type="multipart/form-data")
    assert clock.seconds < QUICK
    assert response.status_code == 422 and "超过上限" in response.get_data(as_text=True)


@SQLITE
def test_cases_import_refuses_a_forged_dimension_quickly(demo, tmp_path):
    source = tmp_path / "cases.xlsx"
    source.write_bytes(forged_dimension(CASES))
    with demo.app_context(), Clock() as clock, pytest.raises(ImportFailed) as refused:
        import_cases(source, "grid-incident")
    assert clock.seconds < QUICK
    assert "A1:XFD200000" in str(refused.value) and "超过上限" in str(refused.value)


@SQLITE
def test_cases_cli_refuses_a_forged_dimension_quickly(demo, tmp_path):
    source = tmp_path / "cases.xlsx"
    source.write_bytes(forged_dimension(CASES))
    with Clock() as clock:
        result = _cli(demo, ["cases", "import", str(source), "--form", "grid-incident"])
    assert clock.seconds < QUICK + 1
    assert result.exit_code == 1 and "未导入" in result.output and "超过上限" in result.output, result.output


# ---- rows and columns actually read ----------------------------------------------------------


@SQLITE
def test_rows_beyond_an_understated_dimension_are_read_not_dropped(app):
    """openpyxl stopped at the claimed last row: the 1 月 2 日 row vanished silently."""
    honest = workbook(ARRANGEMENT + [["2027-01-02", "放假", "元旦"], ["2027-01-03", "放假", "元旦"]])
    understated = rewrite_sheet(honest, lambda xml: xml.replace('<dimension ref="A1:C4"/>', '<dimension ref="A1:C2"/>'))
    assert understated != honest
    with app.app_context():
        result = arrangement.import_arrangement(understated, "2027.xlsx")
    assert result.holidays == 3


@SQLITE
def test_a_far_away_row_is_refused_not_ignored(app):
    with app.app_context(), Clock() as clock, pytest.raises(arrangement.ArrangementInvalid) as refused:
        arrangement.import_arrangement(far_row(ARRANGEMENT), "2027.xlsx")
    assert clock.seconds < QUICK and "表格行数过多：最多 1,010 行" in str(refused.value)


@SQLITE
def test_values_beyond_the_column_limit_are_refused(app):
    csv_data = ("日期,类型,名称" + ",x" * 150 + "\n2027-01-01,放假,元旦\n").encode()
    with app.app_context():
        for data, name in ((wide_row(ARRANGEMENT), "2027.xlsx"), (csv_data, "2027.csv")):
            with pytest.raises(arrangement.ArrangementInvalid) as refused:
                arrangement.import_arrangement(data, name)
            assert "表格列数过多：第 1 行超过" in str(refused.value), name


@SQLITE
def test_an_unpacking_bomb_is_refused_before_parsing(app):
    data = unpacking_bomb(ARRANGEMENT, megabytes=20)
    assert len(data) < 1 << 20
    with app.app_context(), Clock() as clock, pytest.raises(arrangement.ArrangementInvalid) as refused:
        arrangement.import_arrangement(data, "2027.xlsx")
    assert clock.seconds < QUICK and "解压后超过" in str(refused.value)


# ---- the reader itself ----------------------------------------------------------------------


def test_reader_limits_name_themselves_and_blank_cells_beyond_columns_are_dropped():
    stray = rewrite_sheet(workbook([["a", "b"], ["c", "d"]]),
                          lambda xml: xml.replace("</row>", '<c r="XFD1" s="0"/></row>', 1)
                          .replace('<dimension ref="A1:B2"/>', ""))
    # the stray cell makes row 1 16,384 cells long: counted as read, then dropped as empty
    assert read_table(stray, "x.xlsx", columns=5, cells=20_000) == [(1, ["a", "b"]), (2, ["c", "d"])]
    with pytest.raises(ValidationFailed) as refused:
        read_table(stray, "x.xlsx", columns=5, cells=100)
    assert refused.value.problems == [("/file", "表格单元格过多：最多读取 100 个单元格", "too_large")]
    many = "\n".join(f"{i},x" for i in range(30)).encode()
    with pytest.raises(ValidationFailed) as refused:
        read_table(many, "x.csv", rows=20)
    assert refused.value.problems[0][1] == "表格行数过多：最多 20 行（含表头和空行）"
    assert read_table(b"a,b\n\n ,\nc,\n", "x.CSV") == [(1, ["a", "b"]), (4, ["c", ""])]
    for data, name, message in ((b"PK\x03\x04junk", "x.xlsx", "不是有效的 Excel"), (b"a", "x.txt", "只支持")):
        with pytest.raises(ValidationFailed) as refused:
            read_table(data, name)
        assert message in refused.value.problems[0][1] and refused.value.problems[0][2] == "format"


def test_reader_stops_on_time(monkeypatch):
    import fengqiao.tabular as tabular

    ticks = iter(range(0, 10_000, 10))  # every clock reading is ten seconds later
    monkeypatch.setattr(tabular, "_clock", lambda: next(ticks))
    data = "\n".join(f"{i},x" for i in range(600)).encode()
    with pytest.raises(ValidationFailed) as refused:
        read_table(data, "x.csv", seconds=5)
    assert refused.value.problems[0][1] == "表格过大：读取超过 5 秒仍未完成，请拆分后分批导入"


# ---- rows of empty cells without a dimension (openpyxl builds a whole row before it is counted) --

EMPTY_CELLS = pytest.mark.parametrize("shape", [(3_900_000, 1), (19_000, 200)], ids=["one-row", "200-rows"])
TOO_MANY = ("表格单元格过多：最多读取", "表格列数过多：")


@SQLITE
@EMPTY_CELLS
def test_calendar_import_refuses_rows_of_empty_cells_quickly(app, shape):
    per_row, count = shape
    data = empty_cells(ARRANGEMENT, per_row=per_row, count=count)
    assert len(data) < 24_000  # a small file
    with app.app_context(), Clock() as clock, pytest.raises(arrangement.ArrangementInvalid) as refused:
        arrangement.import_arrangement(data, "2027.xlsx")
    assert clock.seconds < QUICK
    assert any(m in str(refused.value) for m in TOO_MANY), str(refused.value)


@SQLITE
@EMPTY_CELLS
def test_cases_import_refuses_rows_of_empty_cells_quickly(demo, tmp_path, shape):
    per_row, count = shape
    source = tmp_path / "cases.xlsx"
    source.write_bytes(empty_cells(CASES, per_row=per_row, count=count))
    with demo.app_context(), Clock() as clock, pytest.raises(ImportFailed) as refused:
        import_cases(source, "grid-incident")
    assert clock.seconds < QUICK
    assert any(m in str(refused.value) for m in TOO_MANY), str(refused.value)


def test_reader_counts_cells_in_the_xml_before_openpyxl_builds_a_row():
    data = empty_cells([["a", "b"]], per_row=30_000)
    for kwargs in ({"cells": 1_000}, {"columns": 5}):  # the cells cap; a row wider than Excel's
        with Clock() as clock, pytest.raises(ValidationFailed) as refused:
            read_table(data, "x.xlsx", rows=10, **kwargs)
        assert clock.seconds < 0.5
        (path, message, code), = refused.value.problems
        assert path == "/file" and code == "too_large" and message.startswith(TOO_MANY), message
    # 1,000 cells may be read, and empty ones beyond the columns are still dropped
    assert read_table(empty_cells([["a", "b"]], per_row=900), "x.xlsx", rows=10, columns=5, cells=1_000) == [(1, ["a", "b"])]
    rows_of_rows = rewrite_sheet(workbook([["a"]]), lambda xml: xml.replace("</sheetData>", "<row/>" * 50 + "</sheetData>"))
    with pytest.raises(ValidationFailed) as refused:
        read_table(rows_of_rows, "x.xlsx", rows=20)
    assert refused.value.problems[0][1] == "表格行数过多：最多 20 行（含表头和空行）"
