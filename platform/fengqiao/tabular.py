"""The one reader of uploaded spreadsheets (.xlsx/.csv), bounded by what is actually read.

Every import (cases, the holiday calendar, plugins' lists through ``fengqiao.sdk``) reads its
file here. openpyxl's read-only mode trusts a sheet's ``<dimension>`` tag and pads every row
to it: a 5 KB workbook claiming ``A1:XFD200000`` became 3 billion empty cells and kept an
import (and SQLite's write lock) busy for minutes (issue 17, finding 4). So:

- the archive's declared unpacked size and entry count are checked before anything is
  parsed (zipfile never inflates a member past its declared size);
- a dimension claiming more rows or columns than the caller allows is refused at once, and
  is otherwise ignored (``reset_dimensions``): rows are as long as their last real cell;
- the first sheet's XML (and any other sheet's without a ``<dimension>``, which openpyxl
  parses to its end while loading) is then streamed out of the archive and its ``<row>`` and
  ``<c>`` elements counted with a regular expression, before openpyxl parses it: openpyxl
  builds a whole row before anyone can count it, and one row of 3.9 million empty ``<c/>`` (a
  20 KB file without a dimension) took 25 s. Too many rows or cells, or a row wider than
  Excel's 16,384 columns, is refused at once;
- row numbers (blank and skipped rows count), columns holding a value, cells read and
  seconds spent are counted while reading, and the first limit crossed stops the read.

A refusal is :class:`~fengqiao.exceptions.Invalid` at ``/file`` with a Chinese message
naming the limit (code ``too_large``) or the problem (code ``format``); callers turn it into
their own error type. Nothing here touches the database: parse fully, then write briefly.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Any

from fengqiao.exceptions import Invalid

XLSX_SUFFIXES = (".xlsx", ".xlsm")
MAX_ENTRIES = 2_000  # members of the .xlsx archive (a workbook has a few dozen)
TIME_CHECK_EVERY = 256  # rows between clock readings
EXCEL_COLUMNS = 16_384  # A…XFD: no row of a real sheet has more cells
SCAN_CHUNK = 1 << 20  # bytes of sheet XML counted at a time
# start tags, any namespace prefix: <c …>, <c/>, <x:c>, <row …>; not <col>, <cfRule>, <rowBreaks>
_ROW_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?row[\s/>]")
_CELL_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?c[\s/>]")
_HEAD_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?(dimension|sheetData)[\s/>]")
_OPEN_NAME = re.compile(rb"<[^\s<>/!?=\"']*")  # a tag name still being read at a chunk's end
_clock = time.monotonic  # (a test makes time pass faster)


def refuse(message: str, code: str = "too_large") -> Invalid:
    return Invalid([("/file", message, code)])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(data: bytes, filename: str, *, rows: int = 1_000, columns: int = 100,
               cells: int | None = None, seconds: float = 5.0,
               unpacked: int | None = None) -> list[tuple[int, list[Any]]]:
    """(row number, cells) of every non-blank row of a .csv (UTF-8 with or without BOM, else
    GB18030) or of an .xlsx's first sheet, read within the limits:

    ``rows``: the last row number read (header, title and blank rows count); ``columns``:
    cells beyond it must be empty (they are dropped); ``cells``: cells read, blank ones
    included (default ``rows × columns``); ``seconds``: time spent reading; ``unpacked``:
    bytes of the unpacked .xlsx or of the .csv (default ``max(16 MiB, cells × 200)``).
    """
    cells = cells if cells is not None else rows * columns
    unpacked = unpacked if unpacked is not None else max(16 << 20, cells * 200)
    suffix = PurePath(filename or "").suffix.lower()
    deadline = _clock() + seconds
    if suffix == ".csv":
        source = _csv_rows(data, unpacked)
    elif suffix in XLSX_SUFFIXES:
        source = _xlsx_rows(data, rows, columns, cells, unpacked, seconds, deadline)
    else:
        raise refuse("只支持 .csv 或 .xlsx 文件", "format")
    return _bounded(source, rows, columns, cells, seconds, deadline)


def _bounded(source: Iterable[list[Any]], rows: int, columns: int, cells: int,
             seconds: float, deadline: float) -> list[tuple[int, list[Any]]]:
    iterator = iter(source)
    try:
        return _counted(iterator, rows, columns, cells, seconds, deadline)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # a refusal part-way still closes the workbook
            close()


def _counted(iterator: Iterator[list[Any]], rows: int, columns: int, cells: int,
             seconds: float, deadline: float) -> list[tuple[int, list[Any]]]:
    found: list[tuple[int, list[Any]]] = []
    seen = 0
    number = 0
    while True:
        try:
            row = next(iterator, None)
        except Invalid:
            raise
        except Exception as err:  # XML or CSV damage found part-way through the file
            raise refuse(f"无法读取该文件（第 {number + 1} 行附近）：文件已损坏或格式不正确", "format") from err
        if row is None:
            return found
        number += 1
        if number > rows:
            raise _too_many_rows(rows)
        seen += len(row)
        if seen > cells:
            raise _too_many_cells(cells)
        if number % TIME_CHECK_EVERY == 0 and _clock() > deadline:
            raise _too_slow(seconds)
        if len(row) > columns:
            if any(not _blank(c) for c in row[columns:]):
                raise refuse(f"表格列数过多：第 {number} 行超过 {columns} 列")
            row = row[:columns]
        if any(not _blank(c) for c in row):
            row = list(row)
            while row[-1] is None:  # trailing empty cells (styled, or a stray one dropped above)
                row.pop()
            found.append((number, row))


def _too_many_rows(rows: int) -> Invalid:
    return refuse(f"表格行数过多：最多 {rows:,} 行（含表头和空行）")


def _too_many_cells(cells: int) -> Invalid:
    return refuse(f"表格单元格过多：最多读取 {cells:,} 个单元格")


def _too_slow(seconds: float) -> Invalid:
    return refuse(f"表格过大：读取超过 {seconds:g} 秒仍未完成，请拆分后分批导入")


def _csv_rows(data: bytes, unpacked: int) -> Iterator[list[Any]]:
    if len(data) > unpacked:
        raise refuse(f"文件过大：CSV 文件最大 {unpacked >> 20} MB")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise refuse("CSV 文件编码无法识别，请另存为 UTF-8", "format")
    return csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(data: bytes, rows: int, columns: int, cells: int, unpacked: int,
               seconds: float, deadline: float) -> Iterator[list[Any]]:
    book = _checked_workbook(data, rows, cells, unpacked, seconds, deadline, every_sheet=False)
    try:
        sheet = book.worksheets[0]
    except Exception:
        book.close()
        raise refuse(UNREADABLE, "format") from None
    return _sheet_rows(book, sheet, rows, columns)


UNREADABLE = "无法读取该文件：不是有效的 Excel（.xlsx）文件"


def _checked_workbook(data: bytes, rows: int, cells: int, unpacked: int, seconds: float,
                      deadline: float, *, every_sheet: bool, sheets: int | None = None):
    """The workbook opened read-only by openpyxl, once the archive passed every limit: its
    entries and unpacked size, the number of worksheets (``sheets``) and the rows and cells of
    each sheet that will be read (the first, or ``every_sheet``), counted in the XML before
    openpyxl parses it. The caller closes the workbook."""
    unreadable = refuse(UNREADABLE, "format")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise unreadable from None
    if len(members) > MAX_ENTRIES:
        raise refuse(f"无法读取该文件：Excel 文件内部条目过多（超过 {MAX_ENTRIES} 个）", "format")
    if sum(m.file_size for m in members) > unpacked:
        raise refuse(f"文件过大：Excel 文件解压后超过 {unpacked >> 20} MB")
    from openpyxl import load_workbook
    from openpyxl.reader.excel import ExcelReader

    try:  # the worksheets, in the workbook's order, as load_workbook will find them
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.read_manifest()
        reader.read_workbook()
        names = {m.filename for m in members}
        parts = [rel.target for _sheet, rel in reader.parser.find_sheets()
                 if rel.target in names and "chartsheet" not in rel.Type]
        if sheets is not None and len(parts) > sheets:
            raise refuse(f"工作表过多：最多 {sheets} 个")
        # load_workbook parses a sheet without a <dimension> to its end: count them all first
        # (as the first sheet: fully, when every sheet is going to be read)
        for index, name in enumerate(parts):
            with archive.open(name) as xml:
                _scan_sheet(xml, rows, cells, seconds, deadline, first=every_sheet or index == 0)
    except Invalid:
        raise
    except Exception:  # zipfile/XML/KeyError of a damaged or mislabelled file
        raise unreadable from None
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:
        raise unreadable from None


def _scan_sheet(xml: io.BufferedIOBase, rows: int, cells: int, seconds: float,
                deadline: float, first: bool = True) -> None:
    """Count ``<row>`` and ``<c>`` start tags in a sheet's XML (streamed, so never more than the
    archive declared) and refuse at once what the reader would refuse after building it. A
    tag cut by a chunk's end is carried into the next chunk; an overlong name is shortened.
    Another sheet than the first is only counted when it has no ``<dimension>`` (openpyxl then
    parses it while loading the workbook)."""
    found_rows = found_cells = in_row = 0
    carry = b""
    while True:
        chunk = xml.read(SCAN_CHUNK)
        if not first:
            head = _HEAD_TAG.search(chunk)
            if head and head.group(1) == b"dimension":
                return
            first = True
        text = carry + chunk
        carry = b""
        if chunk:
            start = text.rfind(b"<")
            if start >= 0 and _OPEN_NAME.fullmatch(text, start):
                text, carry = text[:start], text[start:]
                if len(carry) > 64:  # only the local name after the prefix can still matter
                    colon = carry.rfind(b":")
                    carry = b"<p" if colon < 0 else (b"<p:" + carry[colon + 1:] if len(carry) - colon <= 4 else b"")
        at = 0
        for tag in _ROW_TAG.finditer(text):  # cells before this row's start end the last row
            counted = len(_CELL_TAG.findall(text, at, tag.start()))
            found_cells, in_row = found_cells + counted, in_row + counted
            _check_cells(found_cells, in_row, cells)
            found_rows += 1
            if found_rows > rows:
                raise _too_many_rows(rows)
            in_row, at = 0, tag.start()
        counted = len(_CELL_TAG.findall(text, at))
        found_cells, in_row = found_cells + counted, in_row + counted
        _check_cells(found_cells, in_row, cells)
        if not chunk:
            return
        if _clock() > deadline:
            raise _too_slow(seconds)


def _check_cells(found: int, in_row: int, cells: int) -> None:
    if found > cells:
        raise _too_many_cells(cells)
    if in_row > EXCEL_COLUMNS:  # empty or not, no spreadsheet program writes such a row
        raise refuse(f"表格列数过多：有一行超过 {EXCEL_COLUMNS:,} 列（Excel 的上限）")


def _sheet_rows(book, sheet, rows: int, columns: int) -> Iterator[list[Any]]:
    """The sheet's rows (gaps as empty rows), never padded to the declared dimension; closes
    the workbook when done."""
    try:
        yield from _sheet_rows_open(sheet, rows, columns)
    finally:
        book.close()


def read_sheets(data: bytes, *, rows: int = 1_000, columns: int = 100, cells: int | None = None,
                seconds: float = 5.0, unpacked: int | None = None,
                sheets: int = 20) -> dict[str, list[tuple[int, list[Any]]]]:
    """Every worksheet of an .xlsx by name, each as :func:`read_table` reads the first one:
    (row number, cells) of its non-blank rows, within the same limits per sheet (``cells``
    and ``seconds`` for the whole workbook). For workbooks whose meaning is spread over
    named sheets (the XLSForm-like form definitions, :mod:`fengqiao.forms.xlsform`)."""
    cells = cells if cells is not None else rows * columns
    unpacked = unpacked if unpacked is not None else max(16 << 20, cells * 200)
    deadline = _clock() + seconds
    book = _checked_workbook(data, rows, cells, unpacked, seconds, deadline, every_sheet=True, sheets=sheets)
    try:
        titles = list(book.sheetnames)
    except Exception:
        book.close()
        raise refuse(UNREADABLE, "format") from None
    found: dict[str, list[tuple[int, list[Any]]]] = {}
    try:
        for title in titles:
            sheet = book[title]
            if not hasattr(sheet, "iter_rows"):
                continue
            left = max(cells - sum(len(r) for rs in found.values() for _n, r in rs), 0)
            found[title] = _counted(_sheet_rows_open(sheet, rows, columns), rows, columns, left,
                                    seconds, deadline)
    finally:
        book.close()
    return found


def _sheet_rows_open(sheet, rows: int, columns: int) -> Iterator[list[Any]]:
    """:func:`_sheet_rows` for one sheet of a workbook the caller closes."""
    if (sheet.max_row or 0) > rows or (sheet.max_column or 0) > columns:
        from openpyxl.utils import get_column_letter

        declared = f"A1:{get_column_letter(sheet.max_column or 1)}{sheet.max_row or 1}"
        raise refuse(f"表格声明的范围 {declared} 超过上限：最多 {rows:,} 行、{columns} 列")
    sheet.reset_dimensions()
    for row in sheet.iter_rows(values_only=True):
        yield list(row)
