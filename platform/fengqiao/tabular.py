"""The one reader of uploaded spreadsheets (.xlsx/.csv), bounded by what is actually read.

Every import (cases, the holiday calendar, plugins' lists through ``fengqiao.sdk``) reads its
file here. openpyxl's read-only mode trusts a sheet's ``<dimension>`` tag and pads every row
to it: a 5 KB workbook claiming ``A1:XFD200000`` became 3 billion empty cells and kept an
import (and SQLite's write lock) busy for minutes (issue 17, finding 4). So:

- the archive's declared unpacked size and entry count are checked before anything is
  parsed (zipfile never inflates a member past its declared size);
- a dimension claiming more rows or columns than the caller allows is refused at once, and
  is otherwise ignored (``reset_dimensions``): rows are as long as their last real cell;
- row numbers (blank and skipped rows count), columns holding a value, cells read and
  seconds spent are counted while reading, and the first limit crossed stops the read.

A refusal is :class:`~fengqiao.errors.ValidationFailed` at ``/file`` with a Chinese message
naming the limit (code ``too_large``) or the problem (code ``format``); callers turn it into
their own error type. Nothing here touches the database: parse fully, then write briefly.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Any

from fengqiao.errors import ValidationFailed

XLSX_SUFFIXES = (".xlsx", ".xlsm")
MAX_ENTRIES = 2_000  # members of the .xlsx archive (a workbook has a few dozen)
TIME_CHECK_EVERY = 256  # rows between clock readings
_clock = time.monotonic  # (a test makes time pass faster)


def refuse(message: str, code: str = "too_large") -> ValidationFailed:
    return ValidationFailed([("/file", message, code)])


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
    if suffix == ".csv":
        source = _csv_rows(data, unpacked)
    elif suffix in XLSX_SUFFIXES:
        source = _xlsx_rows(data, rows, columns, unpacked)
    else:
        raise refuse("只支持 .csv 或 .xlsx 文件", "format")
    return _bounded(source, rows, columns, cells, seconds)


def _bounded(source: Iterable[list[Any]], rows: int, columns: int, cells: int,
             seconds: float) -> list[tuple[int, list[Any]]]:
    iterator = iter(source)
    try:
        return _counted(iterator, rows, columns, cells, seconds)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # a refusal part-way still closes the workbook
            close()


def _counted(iterator: Iterator[list[Any]], rows: int, columns: int, cells: int,
             seconds: float) -> list[tuple[int, list[Any]]]:
    deadline = _clock() + seconds
    found: list[tuple[int, list[Any]]] = []
    seen = 0
    number = 0
    while True:
        try:
            row = next(iterator, None)
        except ValidationFailed:
            raise
        except Exception as err:  # XML or CSV damage found part-way through the file
            raise refuse(f"无法读取该文件（第 {number + 1} 行附近）：文件已损坏或格式不正确", "format") from err
        if row is None:
            return found
        number += 1
        if number > rows:
            raise refuse(f"表格行数过多：最多 {rows:,} 行（含表头和空行）")
        seen += len(row)
        if seen > cells:
            raise refuse(f"表格单元格过多：最多读取 {cells:,} 个单元格")
        if number % TIME_CHECK_EVERY == 0 and _clock() > deadline:
            raise refuse(f"表格过大：读取超过 {seconds:g} 秒仍未完成，请拆分后分批导入")
        if len(row) > columns:
            if any(not _blank(c) for c in row[columns:]):
                raise refuse(f"表格列数过多：第 {number} 行超过 {columns} 列")
            row = row[:columns]
        if any(not _blank(c) for c in row):
            row = list(row)
            while row[-1] is None:  # trailing empty cells (styled, or a stray one dropped above)
                row.pop()
            found.append((number, row))


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


def _xlsx_rows(data: bytes, rows: int, columns: int, unpacked: int) -> Iterator[list[Any]]:
    unreadable = refuse("无法读取该文件：不是有效的 Excel（.xlsx）文件", "format")
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

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        sheet = book.worksheets[0]
    except Exception:  # zipfile/XML/KeyError of a damaged or mislabelled file
        raise unreadable from None
    return _sheet_rows(book, sheet, rows, columns)


def _sheet_rows(book, sheet, rows: int, columns: int) -> Iterator[list[Any]]:
    """The sheet's rows (gaps as empty rows), never padded to the declared dimension."""
    try:
        if (sheet.max_row or 0) > rows or (sheet.max_column or 0) > columns:
            from openpyxl.utils import get_column_letter

            declared = f"A1:{get_column_letter(sheet.max_column or 1)}{sheet.max_row or 1}"
            raise refuse(f"表格声明的范围 {declared} 超过上限：最多 {rows:,} 行、{columns} 列")
        sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()
