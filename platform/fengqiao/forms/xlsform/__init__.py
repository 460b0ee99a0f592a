"""Forms designed in Excel: an XLSForm-like workbook to a definition (schema + ui) and back.

``survey``/``choices``/``settings`` sheets with Chinese (or XLSForm's English) headers;
see ``docs/xlsform.md``. :func:`import_workbook` reads and converts (every problem at once,
with sheet, row and column), :func:`export_workbook` writes any definition so that it reads
back equal, :func:`template_workbook` is the downloadable example. Nothing here touches the
database: callers hand the definition to ``fengqiao.forms.store.import_definition``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fengqiao.forms.definition import FormDefinition
from fengqiao.forms.xlsform.convert import SheetProblem, XlsformInvalid, convert
from fengqiao.forms.xlsform.export import ExportFailed, export_sheets, export_workbook
from fengqiao.forms.xlsform.template import template_workbook
from fengqiao.forms.xlsform.workbook import MAX_BYTES, read_workbook, too_big

XLSX_SUFFIXES = (".xlsx", ".xlsm")


def import_workbook(data: bytes) -> dict[str, Any]:
    """The definition a workbook describes; raises :class:`XlsformInvalid` listing every problem."""
    return convert(read_workbook(data))


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in XLSX_SUFFIXES


def check_workbook_files(paths: list[Path]) -> tuple[list[FormDefinition], list[str]]:
    """``fengqiao forms check/import`` for .xlsx files: the definitions, and one line per
    problem (``file: survey 表第 7 行「类型」列：…``)."""
    definitions: list[FormDefinition] = []
    problems: list[str] = []
    for path in paths:
        try:
            size = path.stat().st_size
            refusal = too_big(size)
            if refusal:
                raise XlsformInvalid([SheetProblem("", None, None, refusal)])
            definitions.append(FormDefinition.from_dict(import_workbook(path.read_bytes())))
        except XlsformInvalid as failed:
            problems += [f"{path}: {p}" for p in failed.problems]
        except OSError as exc:
            problems.append(f"{path}: 无法读取文件（{exc.strerror or exc}）")
    return definitions, problems


__all__ = [
    "MAX_BYTES", "XLSX_SUFFIXES", "check_workbook_files", "is_workbook", "ExportFailed", "SheetProblem", "XlsformInvalid",
    "export_sheets", "export_workbook", "import_workbook", "template_workbook", "too_big",
]
