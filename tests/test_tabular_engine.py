"""The spreadsheet reader's engine (issue 23): calamine reads what openpyxl read, value for value.

:mod:`fengqiao.tabular` parses sheets with calamine where its pre-checks prove that safe and
with openpyxl otherwise. Each workbook here is read both ways — the openpyxl way by making
:func:`~fengqiao.tabular._calamine_sheets` decline — and must come out identical, types
included; the tests also say which engine read it, so a guard that stops letting calamine
read ordinary files (or starts letting it read hostile ones) fails here.
"""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pytest
from openpyxl import Workbook

from fengqiao import tabular
from fengqiao.errors import ValidationFailed
from fengqiao.tabular import read_sheets, read_table
from fengqiao.testing.workbooks import rewrite_sheet, workbook


class Engines:
    """Which engine read each sheet list: True for calamine, False for openpyxl."""

    def __init__(self, monkeypatch):
        self.used: list[bool] = []
        self._real = tabular._calamine_sheets
        self._calamine = True
        monkeypatch.setattr(tabular, "_calamine_sheets", self._spy)

    def _spy(self, *args, **kwargs):
        read = self._real(*args, **kwargs) if self._calamine else None
        self.used.append(read is not None)
        return read

    def both(self, read, *args, **kwargs):
        """``read(*args, **kwargs)`` by calamine where it may, then by openpyxl only."""
        self._calamine = True
        first = _outcome(read, *args, **kwargs)
        self._calamine = False
        second = _outcome(read, *args, **kwargs)
        self._calamine = True
        return first, second


def _outcome(read, *args, **kwargs):
    try:
        return read(*args, **kwargs)
    except ValidationFailed as refused:
        return refused.problems


def _typed(found):
    """Rows with each value's type, so 1 and 1.0, or a date and a datetime, differ."""
    if isinstance(found, dict):
        return {title: _typed(rows) for title, rows in found.items()}
    if found and isinstance(found[0], tuple) and len(found[0]) == 3:  # problems
        return found
    return [(number, [(type(v).__name__, v) for v in row]) for number, row in found]


@pytest.fixture
def engines(monkeypatch):
    return Engines(monkeypatch)


def _book(fill) -> bytes:
    book = Workbook()
    fill(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _values(book):
    sheet = book.active
    sheet.title = "人员"
    sheet.append(["姓名", "身份证号", "门牌", "数量", "金额", "入住日期", "时间", "时长", "是否", "备注"])
    sheet.append(["王秀英", "339901194001010007", "0602", 3, 2.5, date(2024, 3, 1), clock_time(8, 30),
                  timedelta(hours=30), True, "  前后空格  "])
    sheet.append(["李四", "33990119400101000X", "007", 0, -1.25, datetime(2024, 3, 1, 12, 30), None, None, False,
                  "换行\n第二行"])
    sheet.append([])  # a blank row: it still counts
    sheet.append(["张三", 123456789012345, "", -3, 1e20, date(1990, 1, 31), None, None, None, "emoji 😀"])
    for row, number_format in enumerate(['yyyy"年"m"月"d"日"', "yyyy/m/d", 'm"月"d"日"', "0.00%", "@",
                                         "yyyy-mm-dd hh:mm", "[h]:mm:ss", "hh:mm"], start=6):
        for column, value in enumerate((45000, 45000.5, 0.25, 2), start=1):
            cell = sheet.cell(row, column, value)
            cell.number_format = number_format
    sheet.merge_cells("A15:C16")
    sheet["A15"] = "合并单元格"
    sheet["E17"] = "从 E 列开始的行"


def test_ordinary_values_read_alike_and_by_calamine(engines):
    data = _book(_values)
    new, old = engines.both(read_table, data, "people.xlsx")
    assert engines.used == [True, False]
    assert _typed(new) == _typed(old)
    rows = dict(new)
    assert rows[2][:6] == ["王秀英", "339901194001010007", "0602", 3, 2.5, datetime(2024, 3, 1)]
    assert 4 not in rows and rows[5][1] == 123456789012345 and rows[5][2] is None  # an empty string: no cell
    assert rows[15] == ["合并单元格"] and rows[17] == [None, None, None, None, "从 E 列开始的行"]


def test_every_sheet_and_the_1904_date_system_read_alike(engines):
    def fill(book):
        _values(book)
        book.epoch = datetime(1904, 1, 1)
        other = book.create_sheet("第二页")
        other.append(["a", 1, date(2020, 2, 29)])
        book.create_sheet("空白页")

    data = _book(fill)
    new, old = engines.both(read_sheets, data)
    assert engines.used == [True, False]
    assert _typed(new) == _typed(old)
    assert list(new) == ["人员", "第二页", "空白页"] and new["第二页"] == [(1, ["a", 1, datetime(2020, 2, 29)])]


def _formulas(xml: str) -> str:
    # cached values as Excel writes them; one formula never calculated (no <v>)
    return xml.replace("</sheetData>", '<row r="3"><c r="A3"><f>1+2</f><v>3</v></c><c r="B3" t="str"><f>"a"&amp;"b"'
                       '</f><v>ab</v></c><c r="C3"><f>NOW()</f></c><c r="D3" t="b"><f>TRUE()</f><v>1</v></c>'
                       '<c r="E3" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c></row></sheetData>', 1)


def test_formulas_give_their_cached_values_alike(engines):
    data = rewrite_sheet(workbook([["公式"], ["值"]]), _formulas)
    new, old = engines.both(read_table, data, "x.xlsx")
    assert engines.used == [True, False]
    assert _typed(new) == _typed(old)
    assert new[2] == (3, [3, "ab", None, True, "富文本"])


@pytest.mark.parametrize(("change", "why"), [
    (lambda xml: xml.replace('<c r="B2" t="n"><v>2</v></c>', '<c r="B2" t="e"><v>#N/A</v></c>'),
     "an error cell: calamine reads it as empty, openpyxl as '#N/A'"),
    (lambda xml: xml.replace("<v>2</v>", "<v>339901194001010007</v>"),
     "an integer beyond a float's digits (an ID number stored as a number)"),
    (lambda xml: xml.replace('<c r="B2" t="n">', '<c t="n">'), "a cell without its reference"),
    (lambda xml: xml.replace('<row r="2">', '<x:row r="2">').replace("</row></sheetData>", "</x:row></sheetData>")
     .replace("<worksheet ", '<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '),
     "a prefixed row"),
    (lambda xml: xml.replace('<c r="B2" t="n">', '<c r="B9999" t="n">'), "a cell below the last row"),
    (lambda xml: xml.replace("<t>a</t>", "<t>a_x000D_</t>"), "an escaped character: openpyxl keeps '_x000D_'"),
], ids=["error", "long-number", "no-reference", "prefixed", "below", "escape"])
def test_what_calamine_cannot_be_trusted_with_is_read_by_openpyxl(engines, change, why):
    data = rewrite_sheet(workbook([["a", 1], ["b", 2]]), change)
    new, old = engines.both(read_table, data, "x.xlsx", rows=10_000)
    assert engines.used == [False, False], why
    assert _typed(new) == _typed(old)


def test_a_long_number_is_kept_whole():
    data = rewrite_sheet(workbook([["身份证号"], [2]]), lambda xml: xml.replace("<v>2</v>", "<v>339901194001010007</v>"))
    assert read_table(data, "x.xlsx")[1] == (2, [339901194001010007])


# ---- hostile files: calamine builds a dense rectangle and trusts counts in the file ------------


def test_a_far_corner_is_never_given_to_calamine(engines):
    """Two cells, A1 and XFD900: calamine would build 900 × 16,384 cells before anyone counts."""
    far = rewrite_sheet(workbook([["a"]]), lambda xml: xml.replace(
        "</sheetData>", '<row r="900"><c r="XFD900" t="inlineStr"><is><t>x</t></is></c></row></sheetData>', 1))
    began = time.process_time()
    new, old = engines.both(read_table, far, "x.xlsx")
    assert time.process_time() - began < 2
    assert engines.used == [False, False]
    assert new == old == [("/file", "表格列数过多：第 900 行超过 100 列", "too_large")]


def _shared_strings(count: str) -> bytes:
    """A workbook of 甲乙/丙丁 in shared strings (as Excel writes them) declaring ``count``."""
    data = workbook([["甲", "乙"], ["丙", "丁"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                          b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings'
                                          b'+xml"/></Types>')
            elif info.filename == "xl/worksheets/sheet1.xml":
                for index, text in enumerate("甲乙丙丁"):
                    cell = f'<c r="{"AB"[index % 2]}{index // 2 + 1}"'
                    content = content.replace(f'{cell} t="inlineStr"><is><t>&#{ord(text)};</t></is></c>'.encode(),
                                              f'{cell} t="s"><v>{index}</v></c>'.encode())
                assert b"inlineStr" not in content
            target.writestr(info.filename, content)
        target.writestr("xl/sharedStrings.xml", (
            '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{count}" uniqueCount="{count}"><si><t>甲</t></si><si><t>乙</t></si><si><r><t>丙</t></r></si>'
            '<si><t xml:space="preserve"> 丁 </t></si></sst>'))
    return out.getvalue()


def test_a_forged_shared_string_count_is_dropped_before_calamine(engines):
    """calamine reserves memory for the declared count: 10¹⁸ strings would abort the process."""
    honest, forged = _shared_strings("4"), _shared_strings("1000000000000000000")
    new, old = engines.both(read_table, honest, "x.xlsx")
    assert new == old == [(1, ["甲", "乙"]), (2, ["丙", " 丁 "])]
    assert read_table(forged, "x.xlsx") == new
    assert engines.used == [True, False, True]


def test_calamine_reads_only_the_parts_that_were_counted(engines):
    """calamine finds the workbook by ``_rels/.rels`` and openpyxl by ``[Content_Types].xml``:
    a file pointing them at different workbooks must not get an uncounted sheet parsed."""
    data = workbook([["真"], ["的"]])
    bomb = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="1000000">'
            '<c r="XFD1000000" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>')
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "_rels/.rels":
                content = content.replace(b'Target="xl/workbook.xml"', b'Target="evil/workbook.xml"')
                assert b"evil/" in content
            target.writestr(info.filename, content)
        target.writestr("evil/workbook.xml", source.read("xl/workbook.xml"))
        target.writestr("evil/_rels/workbook.xml.rels", source.read("xl/_rels/workbook.xml.rels"))
        target.writestr("evil/worksheets/sheet1.xml", bomb)
    began = time.process_time()
    assert read_table(out.getvalue(), "x.xlsx") == [(1, ["真"]), (2, ["的"])]
    assert time.process_time() - began < 2 and engines.used == [True]


def test_the_same_refusals_either_way(engines):
    """A limit crossed reads the same on both engines (the message names the same row)."""
    wide = rewrite_sheet(workbook([["a", "b"], ["c", "d"]]), lambda xml: xml.replace(
        '<c r="B2" t="inlineStr">', '<c r="F2" t="inlineStr">'))
    for kwargs in ({"columns": 3}, {"rows": 1}, {"cells": 3}):
        new, old = engines.both(read_table, wide, "x.xlsx", **kwargs)
        assert new == old and isinstance(new[0], tuple) and new[0][2] == "too_large", (kwargs, new)


def test_the_garbage_collector_runs_again_after_a_read_or_a_refusal():
    import gc

    assert gc.isenabled()
    assert read_table(workbook([["a"]]), "x.xlsx") == [(1, ["a"])]
    with pytest.raises(ValidationFailed):
        read_table(b"PK\x03\x04junk", "x.xlsx")
    with pytest.raises(ValidationFailed):
        read_sheets(b"PK\x03\x04junk")
    assert gc.isenabled()


def test_a_sheet_too_large_to_keep_streams_through_openpyxl(engines, monkeypatch):
    """The XML calamine would get is kept in memory: beyond ``CALAMINE_XML`` openpyxl streams it."""
    data = _book(_values)
    monkeypatch.setattr(tabular, "CALAMINE_XML", 1_000)
    new, old = engines.both(read_table, data, "people.xlsx")
    assert engines.used == [False, False] and _typed(new) == _typed(old)


def test_a_missing_shared_strings_part_is_refused_as_before(engines):
    """The content types name a shared-strings part the archive lacks: 4xx, never a 500."""
    data = _shared_strings("4")
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                target.writestr(info.filename, source.read(info.filename))
    new, old = engines.both(read_table, out.getvalue(), "x.xlsx")
    assert new == old and new[0][2] == "format" and "不是有效的 Excel" in new[0][1], new
