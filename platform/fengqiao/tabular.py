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

The sheets are parsed by calamine (``python-calamine``, Rust: a 10,000-row sheet in a seventh of
openpyxl's time), with values as openpyxl gives them (:func:`_as_openpyxl`). calamine
builds a sheet as one dense rectangle from its first to its last cell and trusts counts in
the file, so it only ever sees a package rebuilt here (:func:`_calamine_package`) from the
parts the checks above counted, and only when that count proves the rectangle small: every
``<row>`` and ``<c>`` carries a plain ``r`` reference, no cell lies beyond the last row or
the limits, the rectangles hold at most ``cells``. Any other sheet — and one with error cells
(``#N/A``, which calamine reads as empty), ISO-date cells, integers of 16 digits or more (a
float would round an ID number stored as a number) or Excel's ``_x000D_`` escapes (which
openpyxl leaves as they are) — is read by openpyxl as before, so every limit and message
stays what it was.

A refusal is :class:`~fengqiao.exceptions.Invalid` at ``/file`` with a Chinese message
naming the limit (code ``too_large``) or the problem (code ``format``); callers turn it into
their own error type. Nothing here touches the database: parse fully, then write briefly.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from fengqiao.exceptions import Invalid

XLSX_SUFFIXES = (".xlsx", ".xlsm")
MAX_ENTRIES = 2_000  # members of the .xlsx archive (a workbook has a few dozen)
TIME_CHECK_EVERY = 256  # rows between clock readings
EXCEL_COLUMNS = 16_384  # A…XFD: no row of a real sheet has more cells
SCAN_CHUNK = 1 << 20  # bytes of sheet XML counted at a time
CALAMINE_XML = 64 << 20  # bytes of sheet XML kept for calamine; a larger sheet streams through openpyxl
# start tags, any namespace prefix: <c …>, <c/>, <x:c>, <row …>; not <col>, <cfRule>, <rowBreaks>
_ROW_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?row[\s/>]")
_CELL_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?c[\s/>]")
# the same without a prefix, found ten times faster, where no tag of the chunk has one
_PLAIN_ROW = re.compile(rb"<row[\s/>]")
_PLAIN_CELL = re.compile(rb"<c[\s/>]")
_PREFIXED = re.compile(rb":(?:row|c)[\s/>]")
_HEAD_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?(dimension|sheetData)[\s/>]")
_OPEN_NAME = re.compile(rb"<[^\s<>/!?=\"']*")  # a tag name still being read at a chunk's end
# what calamine may be trusted with: the references every spreadsheet program writes
_ROW_REF = re.compile(rb'<row r="([0-9]{1,7})"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"')
_DIMENSION = re.compile(rb"<(?:[^\s<>/:!?]+:)?dimension[\s/>]")
_PLAIN_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?)"\s*/>')
_LONG_NUMBER = re.compile(rb"v>[-+]?[0-9]{16}")  # beyond a float's digits: openpyxl keeps the int
_ODD_TYPES = (b't="e"', b"t='e'", b't="d"', b"t='d'")  # error cells ("#N/A"), ISO-8601 date cells
_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")  # Excel's "_x000D_": calamine decodes it, openpyxl keeps it
_SST_COUNTS = re.compile(rb'\s(?:unique)?[cC]ount\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_clock = time.monotonic  # (a test makes time pass faster)


def refuse(message: str, code: str = "too_large") -> Invalid:
    return Invalid([("/file", message, code)])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@contextmanager
def _gc_paused():
    """The cyclic garbage collector paused while rows are built: thousands of acyclic lists
    make it rescan the whole process's heap again and again (a quarter of a 10,000-row
    import's time), to free nothing."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
    if suffix not in (".csv", *XLSX_SUFFIXES):
        raise refuse("只支持 .csv 或 .xlsx 文件", "format")
    with _gc_paused():
        if suffix == ".csv":
            source = _csv_rows(data, unpacked)
        else:
            source = _xlsx_rows(data, rows, columns, cells, unpacked, seconds, deadline)
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
    checked = _Checked(data, rows, cells, unpacked, seconds, deadline, every_sheet=False)
    read = _calamine_sheets(checked, checked.parts[:1], rows, columns, cells, seconds, deadline)
    if read is not None:
        return iter(read[0])
    book = checked.openpyxl()
    try:
        sheet = book.worksheets[0]
    except Exception:
        book.close()
        raise refuse(UNREADABLE, "format") from None
    return _sheet_rows(book, sheet, rows, columns)


UNREADABLE = "无法读取该文件：不是有效的 Excel（.xlsx）文件"


class _Checked:
    """An archive that passed every limit: its entries and unpacked size, the number of
    worksheets (``sheets``) and the rows and cells of each sheet that will be read (the first,
    or ``every_sheet``), counted in the XML before anything parses it. ``parts`` are the
    worksheets as openpyxl finds them, (title, part name), in the workbook's order; ``shapes``
    what the count saw of each sheet that will be read."""

    def __init__(self, data: bytes, rows: int, cells: int, unpacked: int, seconds: float,
                 deadline: float, *, every_sheet: bool, sheets: int | None = None) -> None:
        unreadable = refuse(UNREADABLE, "format")
        self.data = data
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            members = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise unreadable from None
        if len(members) > MAX_ENTRIES:
            raise refuse(f"无法读取该文件：Excel 文件内部条目过多（超过 {MAX_ENTRIES} 个）", "format")
        if sum(m.file_size for m in members) > unpacked:
            raise refuse(f"文件过大：Excel 文件解压后超过 {unpacked >> 20} MB")
        from openpyxl.reader.excel import ExcelReader

        self.shapes: dict[str, _Shape] = {}
        try:  # the worksheets, in the workbook's order, as load_workbook will find them
            self.reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            self.reader.read_manifest()
            self.reader.read_workbook()
            names = {m.filename for m in members}
            self.parts = [(sheet.name, rel.target) for sheet, rel in self.reader.parser.find_sheets()
                          if rel.target in names and "chartsheet" not in rel.Type]
            if sheets is not None and len(self.parts) > sheets:
                raise refuse(f"工作表过多：最多 {sheets} 个")
            # load_workbook parses a sheet without a <dimension> to its end: count them all first
            # (as the first sheet: fully, when every sheet is going to be read)
            for index, (_title, name) in enumerate(self.parts):
                read = every_sheet or index == 0
                shape = _Shape() if read else None
                with self.archive.open(name) as xml:
                    _scan_sheet(xml, rows, cells, seconds, deadline, first=read, shape=shape)
                if shape is not None:
                    self.shapes[name] = shape
        except Invalid:
            raise
        except Exception:  # zipfile/XML/KeyError of a damaged or mislabelled file
            raise unreadable from None

    def openpyxl(self):
        """The workbook opened read-only by openpyxl; the caller closes it."""
        from openpyxl import load_workbook

        try:
            return load_workbook(io.BytesIO(self.data), read_only=True, data_only=True, keep_links=False)
        except Exception:
            raise refuse(UNREADABLE, "format") from None


class _Shape:
    """What the count saw of one sheet: its XML, ``<row>`` and ``<c>`` tags, how many of them
    carry a plain ``r`` reference, the last row and the columns referenced, the declared
    dimension, and whether any value needs openpyxl (:data:`_ODD_TYPES`, :data:`_LONG_NUMBER`)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.rows = self.cells = self.row_refs = self.cell_refs = self.last_row = 0
        self.letters: set[bytes] = set()
        self.odd = False
        self.dimension: bytes | None = None  # None: no <dimension>; b"": one not plainly written
        self._tail = b""
        self._kept = 0

    def see(self, chunk: bytes, text: bytes) -> None:
        """One chunk read (``chunk``) and the text counted from it (tags cut at its end moved on)."""
        if not self.chunks:  # openpyxl reads the <dimension> before <sheetData>
            end = text.find(b"<sheetData")
            if end < 0 or _DIMENSION.search(text, 0, end):
                plain = _PLAIN_DIMENSION.search(text, 0, end) if end >= 0 else None
                self.dimension = plain.group(1) if plain else b""
        self._kept += len(chunk)
        if self._kept > CALAMINE_XML:  # (an operator's 1,000,000-row file: not all in memory twice)
            self.chunks, self.odd = [b""], True
        else:
            self.chunks.append(chunk)
        numbers = _ROW_REF.findall(text)
        if numbers:
            self.row_refs += len(numbers)
            self.last_row = max(self.last_row, *map(int, numbers))
        letters = _CELL_COLUMN.findall(text)
        self.cell_refs += len(letters)
        self.letters.update(letters)
        if not self.odd:  # and across the seam with the previous chunk: a type or number cut in two
            seam = self._tail + chunk[:24]
            self.odd = any(t in chunk or t in seam for t in _ODD_TYPES) or any(
                pattern.search(part) is not None for pattern in (_LONG_NUMBER, _ESCAPE) for part in (chunk, seam))
            self._tail = chunk[-24:]

    def area(self, rows: int, columns: int) -> int | None:
        """Cells of the rectangle calamine builds for this sheet (first row and column to the
        last), or None when it cannot be known from the count or openpyxl must read the sheet."""
        if self.odd or self.row_refs != self.rows or self.cell_refs != self.cells or self.last_row > rows:
            return None
        if self.dimension is not None:  # openpyxl refuses a forged one with its own message
            from openpyxl.utils.cell import range_boundaries

            try:
                _c, _r, last_column, last_row = range_boundaries(self.dimension.decode())
            except (ValueError, TypeError):
                return None
            if (last_row or 0) > rows or (last_column or 0) > columns:
                return None
        xml = b"".join(self.chunks)
        last = str(self.last_row).encode()
        # a cell's own reference places it, whatever its row says: none may lie below the last row
        if re.search(rb'<c r="[A-Z]{1,3}(?:[0-9]{%d,}|%s)"' % (len(last) + 1, _greater(last)), xml):
            return None
        width = max((_column_number(letters) for letters in self.letters), default=0)
        return self.last_row * width


def _greater(number: bytes) -> bytes:
    """A regular expression for the numbers of as many digits as ``number`` that are greater."""
    branches = [re.escape(number[:i]) + b"[%c-9]" % (digit + 1) + b"[0-9]" * (len(number) - i - 1)
                for i, digit in enumerate(number) if digit < ord("9")]
    return b"|".join(branches) or b"(?!)"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _calamine_sheets(checked: _Checked, parts: list[tuple[str, str]], rows: int, columns: int,
                     cells: int, seconds: float, deadline: float) -> list[list[list[Any]]] | None:
    """The rows of each sheet of ``parts`` as calamine reads them, with openpyxl's values;
    None when openpyxl has to read them (see the module's docstring), or calamine cannot."""
    if not parts:
        return None
    total = 0
    for _title, name in parts:
        area = checked.shapes[name].area(rows, columns)
        if area is None:
            return None
        total += area
    if total > cells:
        return None
    try:
        package = _calamine_package(checked, parts)
    except Exception:  # a part named but missing or damaged: openpyxl names the problem
        return None
    if package is None:
        return None
    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(package)) as book:
            read = [book.get_sheet_by_index(i).to_python(skip_empty_area=False) for i in range(len(parts))]
    except BaseException as err:  # noqa: BLE001 - a Rust panic arrives as pyo3's PanicException
        if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
            raise
        return None  # openpyxl then reads it, or names what is wrong with it
    if _clock() > deadline:
        raise _too_slow(seconds)
    return [[_as_openpyxl(row) for row in sheet] for sheet in read]


_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
_PACKAGE_TYPES = (f'{_XML}<Types xmlns="{_PACKAGE}/content-types"><Default Extension="rels" ContentType='
                  '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                  'ContentType="application/xml"/></Types>')


def _relationships(relations: list[tuple[str, str, str]]) -> str:
    return (f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
            + "".join(f'<Relationship Id="{rid}" Type="{_DOCUMENT}/{kind}" Target="{target}"/>'
                      for rid, kind, target in relations) + "</Relationships>")


def _calamine_package(checked: _Checked, parts: list[tuple[str, str]]) -> bytes | None:
    """A stored (unpacked) .xlsx of only what was counted: the sheets' XML as scanned, the
    shared strings openpyxl reads (their declared count dropped: calamine reserves memory by
    it), ``xl/styles.xml`` (dates are told by their number formats) and the 1904 date system.
    calamine finds parts its own way (by ``_rels/.rels``, case-insensitively, ``workbook.xml``
    by name); here it can only find these. None when the shared strings look odd."""
    from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS

    archive, reader = checked.archive, checked.reader
    strings = reader.package.find(SHARED_STRINGS)
    relations = [(f"rId{i}", "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, len(parts) + 1)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        package.writestr("[Content_Types].xml", _PACKAGE_TYPES)
        package.writestr("_rels/.rels", _relationships([("rId1", "officeDocument", "xl/workbook.xml")]))
        for i, (_title, name) in enumerate(parts, start=1):
            package.writestr(f"xl/worksheets/sheet{i}.xml", b"".join(checked.shapes[name].chunks))
        if strings is not None:
            xml = archive.read(strings.PartName[1:])
            start = re.search(rb"<(?:[^\s<>/:!?]+:)?sst[\s>]", xml[:4096])
            if start is None or _ESCAPE.search(xml):
                return None
            end = xml.find(b">", start.start())
            xml = xml[:start.start()] + _SST_COUNTS.sub(b"", xml[start.start():end]) + xml[end:]
            package.writestr("xl/sharedStrings.xml", xml)
            relations.append(("rIdS", "sharedStrings", "sharedStrings.xml"))
        if ARC_STYLE in archive.namelist():
            package.writestr(ARC_STYLE, archive.read(ARC_STYLE))
            relations.append(("rIdY", "styles", "styles.xml"))
        date1904 = ' date1904="1"' if reader.wb.epoch.year == 1904 else ""
        sheets = "".join(f'<sheet name="s{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, len(parts) + 1))
        package.writestr("xl/workbook.xml", (
            f'{_XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{_DOCUMENT}"><workbookPr{date1904}/><sheets>{sheets}</sheets></workbook>'))
        package.writestr("xl/_rels/workbook.xml.rels", _relationships(relations))
    return out.getvalue()


_FLOAT_INTS = 2 ** 53  # whole floats below this are exactly the integers openpyxl reads


def _as_openpyxl(row: list[Any]) -> list[Any]:
    """One calamine row with the values openpyxl gives: None for an empty cell, an int for a
    whole number (Excel stores every number as a float; openpyxl reads ``<v>42</v>`` as 42), a
    datetime for a date (calamine gives a date when the time is midnight)."""
    return [(value or None) if value.__class__ is str else _value(value) for value in row]


def _value(value: Any) -> Any:
    kind = value.__class__
    if kind is float:
        return int(value) if value.is_integer() and -_FLOAT_INTS < value < _FLOAT_INTS else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _scan_sheet(xml: io.BufferedIOBase, rows: int, cells: int, seconds: float,
                deadline: float, first: bool = True, shape: _Shape | None = None) -> None:
    """Count ``<row>`` and ``<c>`` start tags in a sheet's XML (streamed, so never more than the
    archive declared) and refuse at once what the reader would refuse after building it. A
    tag cut by a chunk's end is carried into the next chunk; an overlong name is shortened.
    Another sheet than the first is only counted when it has no ``<dimension>`` (openpyxl then
    parses it while loading the workbook). ``shape`` (a sheet to be read) keeps the XML and
    what calamine needs to be known about it."""
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
            if start >= 0 and text.find(b">", start) < 0:  # a tag cut by the chunk's end
                if len(text) - start <= 64:
                    text, carry = text[:start], text[start:]
                elif _OPEN_NAME.fullmatch(text, start):  # only the local name after the prefix can still matter
                    text, carry = text[:start], text[start:]
                    colon = carry.rfind(b":")
                    carry = b"<p" if colon < 0 else (b"<p:" + carry[colon + 1:] if len(carry) - colon <= 4 else b"")
        if shape is not None:
            shape.see(chunk, text)
        row_tag, cell_tag = (_ROW_TAG, _CELL_TAG) if _PREFIXED.search(text) else (_PLAIN_ROW, _PLAIN_CELL)
        starts = [tag.start() for tag in row_tag.finditer(text)]
        counted = len(cell_tag.findall(text))
        # no row wider than Excel's: too few cells in all, or too few bytes in each row (a <c/> takes 4)
        narrow = in_row + counted <= EXCEL_COLUMNS or (
            in_row + (starts[0] if starts else len(text)) // 4 <= EXCEL_COLUMNS
            and all(end - start <= 4 * EXCEL_COLUMNS for start, end in zip(starts, [*starts[1:], len(text)], strict=True)))
        if narrow and found_cells + counted <= cells and found_rows + len(starts) <= rows:  # no limit crossed
            found_cells, found_rows = found_cells + counted, found_rows + len(starts)
            in_row = len(cell_tag.findall(text, starts[-1])) if starts else in_row + counted
            starts, at = [], len(text)
        else:
            at = 0
        for start in starts:  # cells before this row's start end the last row: which limit is first
            counted = len(cell_tag.findall(text, at, start))
            found_cells, in_row = found_cells + counted, in_row + counted
            _check_cells(found_cells, in_row, cells)
            found_rows += 1
            if found_rows > rows:
                raise _too_many_rows(rows)
            in_row, at = 0, start
        counted = len(cell_tag.findall(text, at)) if at < len(text) else 0
        found_cells, in_row = found_cells + counted, in_row + counted
        _check_cells(found_cells, in_row, cells)
        if not chunk:
            if shape is not None:
                shape.rows, shape.cells = found_rows, found_cells
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
    with _gc_paused():
        return _read_sheets(data, rows, columns, cells, unpacked, seconds, deadline, sheets)


def _read_sheets(data: bytes, rows: int, columns: int, cells: int, unpacked: int, seconds: float,
                 deadline: float, sheets: int) -> dict[str, list[tuple[int, list[Any]]]]:
    checked = _Checked(data, rows, cells, unpacked, seconds, deadline, every_sheet=True, sheets=sheets)
    found: dict[str, list[tuple[int, list[Any]]]] = {}
    read = _calamine_sheets(checked, checked.parts, rows, columns, cells, seconds, deadline)
    if read is not None:
        for (title, _name), sheet_rows in zip(checked.parts, read, strict=True):
            found[title] = _counted(iter(sheet_rows), rows, columns, _left(cells, found), seconds, deadline)
        return found
    book = checked.openpyxl()
    try:
        titles = list(book.sheetnames)
    except Exception:
        book.close()
        raise refuse(UNREADABLE, "format") from None
    try:
        for title in titles:
            sheet = book[title]
            if not hasattr(sheet, "iter_rows"):
                continue
            found[title] = _counted(_sheet_rows_open(sheet, rows, columns), rows, columns, _left(cells, found),
                                    seconds, deadline)
    finally:
        book.close()
    return found


def _left(cells: int, found: dict[str, list[tuple[int, list[Any]]]]) -> int:
    return max(cells - sum(len(r) for rs in found.values() for _n, r in rs), 0)


def _sheet_rows_open(sheet, rows: int, columns: int) -> Iterator[list[Any]]:
    """:func:`_sheet_rows` for one sheet of a workbook the caller closes."""
    if (sheet.max_row or 0) > rows or (sheet.max_column or 0) > columns:
        from openpyxl.utils import get_column_letter

        declared = f"A1:{get_column_letter(sheet.max_column or 1)}{sheet.max_row or 1}"
        raise refuse(f"表格声明的范围 {declared} 超过上限：最多 {rows:,} 行、{columns} 列")
    sheet.reset_dimensions()
    for row in sheet.iter_rows(values_only=True):
        yield list(row)
