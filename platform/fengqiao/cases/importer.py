"""Bulk import of cases from Excel/CSV: every row validated first, then all or nothing.

A county moving from paper ledgers or another system brings thousands of rows at once.
Each row is checked exactly as a submission of the form would be (the form's cached
validator, via :func:`fengqiao.forms.submit.clean`); if any row has a problem nothing is
written and the rejected rows go to an .xlsx report (the original cells plus a 问题
column) so they can be fixed in the file and the whole file imported again. A clean file
is written in ONE transaction with Core ``executemany`` in batches: the case, its
submission (channel ``import``) and its ``submit`` event per row, numbers reserved from
the same per-(prefix, day) counters as live submissions, deadlines from the case type's
SLA on the unit's calendar (:func:`fengqiao.cases.sla.start`).

Imported rows are records being moved in, not new reports: no ``case_created`` /
``submission_received`` signals are sent (plugins would otherwise text 100,000 people).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fengqiao import tabular
from fengqiao.cases import sla
from fengqiao.cases.case_types import case_type
from fengqiao.cases.creation import NewCase, open_cases
from fengqiao.cases.import_cells import (
    IGNORED_LABELS,
    ORG_LABELS,
    CellProblem,
    Field,
    convert,
    labels,
    leaf_fields,
    text,
)
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.exports import safe_cell
from fengqiao.forms import store
from fengqiao.forms.submit import clean, phone_tail
from fengqiao.models import OrgUnit
from fengqiao.params import parse_int

MAX_ROWS = 1_000_000
MAX_COLUMNS = 500
MAX_CELLS = 50_000_000  # fifty cells a row at the most rows
MAX_UNPACKED = 4 << 30  # bytes of a 1,000,000-row workbook once unpacked, with room to spare
READ_SECONDS = 900.0
CHANNEL = "import"


class ImportFailed(ValueError):
    """The file cannot be imported at all (unreadable, no header, unknown form or unit)."""


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row number in the file (the header is usually row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 {self.column}：{self.message}" if self.column else \
            f"第 {self.row} 行：{self.message}"


class ImportRejected(ValueError):
    """Some rows are invalid: nothing was written; the report lists them."""

    def __init__(self, problems: list[RowProblem], rows: int, report: Path | None):
        self.problems, self.rows, self.report = problems, rows, report
        self.rejected = len({p.row for p in problems})
        super().__init__(f"{self.rejected} 行有问题")


@dataclass
class ImportResult:
    cases: int
    seconds: float
    numbers: list[str] = field(default_factory=list)
    checked_only: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


@dataclass
class _Unit:
    id: int
    code: str
    path: str


# ---- reading ---------------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """(row number, cells) of every non-blank row of a .csv (UTF-8, BOM or not, else GB18030)
    or the first sheet of an .xlsx, read within :mod:`fengqiao.tabular`'s limits (generous:
    this is the operator's CLI, but a forged file must still be refused at once)."""
    try:
        return tabular.read_table(data, filename, rows=MAX_ROWS + 10, columns=MAX_COLUMNS,
                                  cells=MAX_CELLS, seconds=READ_SECONDS, unpacked=MAX_UNPACKED)
    except Invalid as refused:
        raise ImportFailed("；".join(m for _p, m, _c in refused.problems)) from None


@dataclass
class _Columns:
    """What each column of the file holds."""

    header_row: int
    header: list[str]
    fields: dict[int, Field]  # column index → field
    org: int | None
    problems: list[RowProblem]


def _columns(table: list[tuple[int, list[Any]]], names: dict[str, Field | None], form_title: str) -> _Columns:
    """The header is the first of the first ten rows naming at least one field."""
    org_labels = {label.lower() for label in ORG_LABELS}
    found = next(((n, [text(c) for c in cells]) for n, cells in table[:10]
                  if any(text(c) in names or text(c).lower() in org_labels for c in cells)), None)
    if found is None:
        raise ImportFailed(f"找不到表头：第一行应为表单「{form_title}」的字段名称（如字段标题或键名）")
    number, header = found
    fields: dict[int, Field] = {}
    org, problems, seen = None, [], {}
    for i, name in enumerate(header):
        if not name or name in IGNORED_LABELS:
            continue
        if name.lower() in org_labels:
            org = i
            continue
        if name not in names:
            problems.append(RowProblem(number, name, f"未知的列：表单「{form_title}」没有这个字段"))
        elif names[name] is None:
            problems.append(RowProblem(number, name, "列名对应多个字段，请改用字段键名（如 location.address）"))
        elif names[name].path in seen:
            problems.append(RowProblem(number, name, f"与「{seen[names[name].path]}」是同一字段，重复了"))
        else:
            fields[i] = names[name]
            seen[names[name].path] = name
    return _Columns(number, header, fields, org, problems)


# ---- checking --------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    cells: list[Any]
    data: dict
    unit: _Unit


@dataclass
class _Checked:
    rows: list[_Row]
    problems: list[RowProblem]
    columns: _Columns
    by_row: dict[int, list[Any]]  # every data row's cells, for the report


def _units() -> tuple[dict[str, _Unit], dict[str, _Unit | None]]:
    """Active territorial units by code and by name (None: a name several units share)."""
    by_code: dict[str, _Unit] = {}
    by_name: dict[str, _Unit | None] = {}
    for u in db.execute(sa.select(OrgUnit.id, OrgUnit.code, OrgUnit.path, OrgUnit.name)
                        .where(OrgUnit.active, OrgUnit.kind == "territorial")):
        unit = by_code[u.code] = _Unit(u.id, u.code, u.path)
        by_name[u.name] = None if u.name in by_name else unit
    return by_code, by_name


def _column_of(pointer: str, columns: _Columns, fields: list[Field]) -> str:
    """The column a validation pointer (``/location/address``) names, as the file calls it."""
    parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p)
    for index, f in columns.fields.items():
        if parts[:len(f.path)] == f.path:
            rest = parts[len(f.path):]
            return columns.header[index] + "".join(f"[{parse_int(p) + 1}]" if parse_int(p) is not None else f".{p}"
                                               for p in rest)
    for f in fields:
        if parts[:len(f.path)] == f.path:
            return f.title
    # a required object left out entirely: name the column of its (first required) part
    inside = sorted((f for f in fields if f.path[:len(parts)] == parts and len(f.path) > len(parts)),
                    key=lambda f: not f.required)
    if inside:
        named = {f.path: h for i, h in enumerate(columns.header) if (f := columns.fields.get(i))}
        return named.get(inside[0].path, inside[0].title)
    return ".".join(parts) or "表单"


def check(table: list[tuple[int, list[Any]]], version, default_unit: _Unit | None) -> _Checked:
    """Every row converted and validated; problems as (row, column, Chinese message)."""
    schema = version.definition["schema"]
    fields = leaf_fields(schema)
    columns = _columns(table, labels(fields, schema), version.definition.get("title", ""))
    by_code, by_name = _units()
    body = [(n, cells) for n, cells in table if n > columns.header_row]
    if len(body) > MAX_ROWS:
        raise ImportFailed(f"数据行过多（{len(body)} 行），一次最多导入 {MAX_ROWS} 行")
    if not body:
        raise ImportFailed("文件中没有数据行")
    problems = list(columns.problems)
    rows: list[_Row] = []
    items = list(columns.fields.items())
    for number, cells in body:
        found: list[RowProblem] = []
        data: dict = {}
        for index, f in items:
            value = cells[index] if index < len(cells) else None
            try:
                converted = convert(value, f.schema)
            except CellProblem as err:
                found.append(RowProblem(number, columns.header[index], str(err)))
                continue
            if converted is None:
                continue
            if len(f.path) == 1:
                data[f.path[0]] = converted
            else:
                data.setdefault(f.path[0], {})[f.path[1]] = converted
        unit = default_unit
        if columns.org is not None and (code := text(cells[columns.org] if columns.org < len(cells) else None)):
            unit = by_code.get(code) or by_name.get(code)
            if unit is None:
                found.append(RowProblem(number, columns.header[columns.org],
                                        f"单位「{code}」不存在、已停用或不是属地单位"))
        elif unit is None:
            found.append(RowProblem(number, "所属单位", "未指定所属单位：请填写单位代码，或导入时用 --org 指定"))
        try:
            cleaned = clean(version, data)
        except Invalid as failed:
            named = {p.column for p in found}
            for pointer, message, _code in failed.problems:
                column = _column_of(pointer, columns, fields)
                if column not in named:
                    found.append(RowProblem(number, column, message))
        else:
            if not found:
                rows.append(_Row(number, cells, cleaned, unit))
        problems += found
    return _Checked(rows, problems, columns, dict(body))


# ---- the report ------------------------------------------------------------------------------


def write_report(path: Path, checked: _Checked) -> Path:
    """An .xlsx of the rejected rows: 行号, the original cells, 问题 (formulas neutralised)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    by_row: dict[int, list[str]] = {}
    for p in checked.problems:
        by_row.setdefault(p.row, []).append(f"{p.column}：{p.message}" if p.column else p.message)
    wb = Workbook()
    ws = wb.active
    ws.title = "未导入的行"
    ws.append(["行号", *checked.columns.header, "问题"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for number in sorted(by_row):
        cells = checked.columns.header if number == checked.columns.header_row else checked.by_row.get(number, [])
        ws.append([number, *(safe_cell(c) for c in cells), "；".join(by_row[number])])
    ws.freeze_panes = "B2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def default_report_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.问题行.xlsx")


# ---- writing ---------------------------------------------------------------------------------


def _new_cases(version, ctype, rows: list[_Row], now: datetime) -> list[NewCase]:
    """The case, submission and event of each row; clocks computed once per (limit, unit)."""
    clocks: dict[tuple[str, str], dict] = {}
    title_field = version.definition.get("title_field")
    form_title = version.definition["title"]
    out = []
    for row in rows:
        data = row.data
        limit = ctype.limit_for(data)
        key = (json.dumps(limit, sort_keys=True), row.unit.path)
        clock = clocks.get(key)
        if clock is None:
            clock = clocks[key] = sla.start(limit, now, row.unit.path, ctype.due_soon)
        value = data.get(title_field) if title_field else None
        out.append(NewCase(
            ctype.prefix,
            case=dict(type=ctype.key, title=(str(value) if value else form_title)[:200],
                      state=ctype.initial_state, org_id=row.unit.id, form_key=version.definition["key"],
                      form_version=version.number, data=data, version=1, created_at=now,
                      workflow_version=ctype.version, priority=ctype.tier_for(data),
                      phone_tail=phone_tail(version, data), **clock),
            submission=dict(form_version_id=version.id, data=data, channel=CHANNEL, submitted_by_id=None,
                            created_at=now),
            event=dict(at=now, actor_id=None, action="submit", from_state=None, to_state=ctype.initial_state,
                       comment="批量导入", changes={"channel": CHANNEL}, internal=False),
        ))
    return out


def write(rows: list[_Row], version, now: datetime) -> list[str]:
    """Insert every row's case, submission and ``submit`` event in one transaction."""
    ctype = case_type(version.definition.get("case_type"))
    cases = _new_cases(version, ctype, rows, now)
    db.rollback()  # the session's reads end here; the writes take their own connection
    with db.get_bind().begin() as conn:
        return open_cases(conn, ctype.prefix, now, cases)


# ---- the service -----------------------------------------------------------------------------


def import_cases(source: Path, form_key: str, org_code: str | None = None, report: Path | None = None,
                 check_only: bool = False, now: datetime | None = None) -> ImportResult:
    """Import ``source`` as cases of form ``form_key`` (latest published version).

    Raises :class:`ImportFailed` when the file cannot be read at all and
    :class:`ImportRejected` (after writing the report) when any row is invalid.
    """
    began = time.perf_counter()
    found = store.published(form_key)
    if found is None or found[1] is None:
        raise ImportFailed(f"表单「{form_key}」不存在或尚未发布")
    form, version = found
    if form.status != "active":
        raise ImportFailed(f"表单「{form_key}」已停用")
    default_unit = None
    if org_code:
        by_code, _by_name = _units()
        default_unit = by_code.get(org_code)
        if default_unit is None:
            raise ImportFailed(f"--org：单位 {org_code} 不存在、已停用或不是属地单位")
    try:
        data = source.read_bytes()
    except OSError as err:
        raise ImportFailed(f"无法读取文件 {source}：{err.strerror or err}") from err
    checked = check(read_table(data, source.name), version, default_unit)
    if checked.problems:
        db.rollback()
        path = write_report(report or default_report_path(source), checked)
        raise ImportRejected(checked.problems, len(checked.by_row), path)
    if check_only:
        db.rollback()
        return ImportResult(len(checked.rows), time.perf_counter() - began, checked_only=True)
    numbers = write(checked.rows, version, (now or utcnow()).astimezone(UTC))
    return ImportResult(len(numbers), time.perf_counter() - began, numbers)
