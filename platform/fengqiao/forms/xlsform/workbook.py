"""Reading and writing the workbook file itself (no meaning: :mod:`.convert`, :mod:`.export`).

Reading goes through :func:`fengqiao.tabular.read_sheets`, the same bounded reader as every
other spreadsheet import: the file size is checked first, then the archive's unpacked size,
the sheet count, and the rows/cells of each sheet before openpyxl builds them.
"""

from __future__ import annotations

import io
from typing import Any

from fengqiao import tabular
from fengqiao.exceptions import Invalid
from fengqiao.forms.xlsform.convert import SheetProblem, XlsformInvalid

MAX_BYTES = 1 << 20  # below the app-wide body limit (2 MB, answered 413), so this 422 names the limit
MAX_ROWS = 2_000
MAX_COLUMNS = 40
MAX_SHEETS = 20
READ_SECONDS = 5.0

Sheets = dict[str, list[tuple[int, list[Any]]]]


def too_big(size: int) -> str | None:
    """The refusal for a file of ``size`` bytes, or None (checked before reading anything)."""
    if size > MAX_BYTES:
        return f"文件过大：表单工作簿最大 {MAX_BYTES >> 20} MB"
    return None


def read_workbook(data: bytes) -> Sheets:
    """Every sheet's non-blank rows; raises :class:`XlsformInvalid` for a file that cannot be read."""
    refusal = too_big(len(data))
    if refusal:
        raise XlsformInvalid([SheetProblem("", None, None, refusal)])
    try:
        return tabular.read_sheets(data, rows=MAX_ROWS, columns=MAX_COLUMNS,
                                   seconds=READ_SECONDS, sheets=MAX_SHEETS)
    except Invalid as refused:
        raise XlsformInvalid([SheetProblem("", None, None, m) for _p, m, _c in refused.problems]) from None


def write_workbook(sheets: dict[str, list[list[Any]]], widths: dict[str, list[int]] | None = None) -> bytes:
    """An .xlsx with one sheet per entry; the first row of each is its (bold, frozen) header.

    Cells are written as values, never as formulas: a label beginning with ``=`` stays text
    (so a definition cannot smuggle a formula into the admin's Excel either).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for values in rows:
            sheet.append([None if v in ("", None) else v for v in values])
        for cell in sheet[1] if rows else ():
            cell.font = Font(bold=True)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        for index, width in enumerate((widths or {}).get(title, []), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
