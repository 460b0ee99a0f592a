"""A streaming (write-only) Excel sheet: memory stays flat however many rows a ledger has.

Same rules as :mod:`fengqiao.exports`: Chinese headers, local times shown as dates,
cells beginning with ``= + - @`` neutralised. The file appears under its final name only
when complete (written beside it, then renamed), so a rerun job never serves half a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fengqiao.exports import safe_cell

DATE_FORMAT = "yyyy-mm-dd hh:mm"


def sheet_name(title: str) -> str:
    return re.sub(r"[\\/?*:\[\]：]", " ", title)[:31] or "Sheet1"  # characters Excel forbids


class SheetWriter:
    """Title row, a note row, bold headers, then rows appended one at a time."""

    def __init__(self, title: str, note: str, headers: Sequence[str], widths: Sequence[int]):
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(sheet_name(title))
        for i, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width
        self.sheet.freeze_panes = "A4"
        self.sheet.append([self._styled(title, Font(bold=True, size=14))])
        self.sheet.append([self._styled(note, Font(italic=True, color="666666"))])
        self.sheet.append([self._styled(h, Font(bold=True)) for h in headers])
        self.rows = 0

    def _styled(self, value: Any, font: Font) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, safe_cell(value))
        cell.font = font
        return cell

    def _cell(self, value: Any) -> Any:
        value = safe_cell(value)
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.sheet, value)
            cell.number_format = DATE_FORMAT
            return cell
        return value

    def append(self, values: Sequence[Any]) -> None:
        self.sheet.append([self._cell(v) for v in values])
        self.rows += 1

    def save(self, path: Path) -> None:
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        try:
            self.workbook.save(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
