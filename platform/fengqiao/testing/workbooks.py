"""Hostile spreadsheets for import tests (core and plugins): small files that lie about their size.

A sheet's ``<dimension ref="…"/>`` is only a hint written by whatever produced the file;
openpyxl's read-only mode used to pad every row to it. :func:`forged_dimension` makes the
5 KB workbook of issue 17 finding 4 (``A1:XFD200000``) from a few honest rows.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

FORGED_REF = "A1:XFD200000"


def workbook(rows: Iterable[Sequence[Any]]) -> bytes:
    """An honest .xlsx holding ``rows`` on its first sheet."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:
    """``data`` with the first sheet's XML replaced by ``change(xml_text)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(info.filename, content)
    return out.getvalue()


def forged_dimension(rows: Iterable[Sequence[Any]], ref: str = FORGED_REF) -> bytes:
    """A workbook of ``rows`` whose first sheet claims the range ``ref`` (with an empty row
    element at its last row, as some generators write)."""
    last = int(re.sub(r"\D", "", ref.split(":")[-1]))

    def forge(xml: str) -> str:
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml, count=1)
        # one empty row at the claimed end: the reader pads every row in between to the width
        return xml.replace("</sheetData>", f'<row r="{last}"/></sheetData>', 1)

    return rewrite_sheet(workbook(rows), forge)


def far_row(rows: Iterable[Sequence[Any]], number: int = 1_048_576) -> bytes:
    """A workbook of ``rows`` plus one cell on row ``number`` (every row before it is "read")."""

    def far(xml: str) -> str:
        cell = f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>x</t></is></c></row>'
        return xml.replace("</sheetData>", cell + "</sheetData>", 1)

    return rewrite_sheet(workbook(rows), far)


def wide_row(rows: Iterable[Sequence[Any]], column: str = "XFD") -> bytes:
    """A workbook of ``rows`` where every row also has a cell in ``column`` (16,384 wide)."""

    def wide(xml: str) -> str:
        return re.sub(r'(<row r="(\d+)"[^>]*>)(.*?)(</row>)',
                      lambda m: f'{m.group(1)}{m.group(3)}<c r="{column}{m.group(2)}" t="inlineStr">'
                                f'<is><t>x</t></is></c>{m.group(4)}', xml)

    return rewrite_sheet(workbook(rows), wide)


def unpacking_bomb(rows: Iterable[Sequence[Any]], megabytes: int = 200) -> bytes:
    """A workbook whose sheet XML carries ``megabytes`` of padding (a few hundred KB packed)."""

    def pad(xml: str) -> str:
        return xml.replace("</worksheet>", "<!--" + " " * (megabytes << 20) + "--></worksheet>", 1)

    return rewrite_sheet(workbook(rows), pad)


def empty_cells(rows: Iterable[Sequence[Any]], per_row: int = 3_900_000, count: int = 1) -> bytes:
    """A workbook of ``rows`` without a ``<dimension>`` plus ``count`` rows of ``per_row`` empty
    ``<c/>`` cells each (20 KB packed for one row of 3.9 million: openpyxl builds a whole row
    before anyone can count it)."""
    rows = list(rows)

    def fill(xml: str) -> str:
        xml = re.sub(r"<dimension ref=\"[^\"]*\"\s*/>", "", xml, count=1)
        empty = "".join(f'<row r="{len(rows) + i}">' + "<c/>" * per_row + "</row>" for i in range(1, count + 1))
        return xml.replace("</sheetData>", empty + "</sheetData>", 1)

    return rewrite_sheet(workbook(rows), fill)
