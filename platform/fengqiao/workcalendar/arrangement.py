"""Importing a year's 放假/调休 arrangement from a CSV/xlsx file (columns 日期, 类型, 名称).

The whole file is checked before anything is written: one Chinese problem per bad row, so a
person can fix the file and upload it again. A valid file then replaces that year's days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.models import CalendarDay
from fengqiao.models.calendar_days import org_code_is
from fengqiao.tabular import read_table
from fengqiao.workcalendar.changes import (
    MAX_NAME,
    day_problems,
    mark_year_complete,
    record_change,
    remove_day,
    unit_exists,
)

KIND_WORDS = {
    "放假": "holiday", "休": "holiday", "休息": "holiday", "holiday": "holiday",
    "上班": "workday", "班": "workday", "调休上班": "workday", "workday": "workday",
}
MAX_FILE_ROWS = 1000
MAX_FILE_COLUMNS = 50  # 日期、类型、名称 and whatever notes people keep beside them


@dataclass(frozen=True)
class ArrangementRow:
    line: int  # the row number a person sees in the file
    day: date
    kind: str
    name: str


@dataclass(frozen=True)
class RowProblem:
    line: int | None  # None: the whole file
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


class ArrangementInvalid(Exception):
    """The file was not imported; one Chinese problem per bad row."""

    def __init__(self, problems: Sequence[RowProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class ImportResult:
    year: int
    org_code: str | None
    added: int
    updated: int
    removed: int
    unchanged: int
    holidays: int
    workdays: int
    years: tuple[int, ...]  # years whose days changed or were (re)entered

    @property
    def summary(self) -> str:
        scope = f"单位 {self.org_code}" if self.org_code else "全国"
        return (f"已导入{scope} {self.year} 年放假调休安排：放假 {self.holidays} 天、上班 {self.workdays} 天"
                f"（新增 {self.added}、修改 {self.updated}、删除 {self.removed}、未变 {self.unchanged}），"
                f"{self.year} 年已标记为已录入")


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    if text.endswith(" 00:00:00"):
        text = text[:-9]
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _table_rows(data: bytes, filename: str) -> list[tuple[int, list[Any]]]:
    """Non-blank rows, read within limits (:mod:`fengqiao.tabular`): a title and the header
    may take the first ten rows, then at most ``MAX_FILE_ROWS``."""
    try:
        return read_table(data, filename, rows=MAX_FILE_ROWS + 10, columns=MAX_FILE_COLUMNS, seconds=5.0)
    except Invalid as refused:
        hint = "（列：日期、类型、名称）" if refused.problems[0][2] == "format" else ""
        raise ArrangementInvalid([RowProblem(None, m + hint) for _p, m, _c in refused.problems]) from None


def parse_arrangement(data: bytes, filename: str) -> tuple[list[ArrangementRow], list[RowProblem]]:
    """Rows of a CSV/xlsx file with columns 日期, 类型 (放假/上班), 名称; and each bad row's problem."""
    table = _table_rows(data, filename)
    header_at = next((n for n, (_i, row) in enumerate(table[:10])
                      if {"日期", "类型"} <= {_cell_text(c) for c in row}), None)
    if header_at is None:
        return [], [RowProblem(None, "找不到表头：第一行应为「日期」「类型」「名称」三列")]
    header = [_cell_text(c) for c in table[header_at][1]]
    col = {name: header.index(name) for name in ("日期", "类型", "名称") if name in header}
    body = table[header_at + 1:]
    if not body:
        return [], [RowProblem(None, "文件中没有数据行")]
    if len(body) > MAX_FILE_ROWS:
        return [], [RowProblem(None, f"数据行过多（{len(body)} 行），一次最多导入 {MAX_FILE_ROWS} 行")]
    rows: list[ArrangementRow] = []
    problems: list[RowProblem] = []

    def cell(row: list[Any], name: str) -> Any:
        i = col.get(name)
        return row[i] if i is not None and i < len(row) else None

    for line, raw in body:
        messages = []
        raw_day, raw_kind = cell(raw, "日期"), _cell_text(cell(raw, "类型"))
        name = _cell_text(cell(raw, "名称"))
        day = _parse_date(raw_day)
        if day is None:
            text = _cell_text(raw_day)
            messages.append(f"日期「{text}」无法识别，应为 2027-01-01 这样的格式" if text else "日期为空")
        kind = KIND_WORDS.get(raw_kind.lower())
        if kind is None:
            messages.append(f"类型「{raw_kind}」无效，应为「放假」或「上班」" if raw_kind else "类型为空，应为「放假」或「上班」")
        if day is not None and kind is not None:
            messages.extend(m for _f, m in day_problems(day, kind, name))
        elif len(name) > MAX_NAME:
            messages.append(f"名称最多 {MAX_NAME} 个字符")
        if messages:
            problems.append(RowProblem(line, "；".join(messages)))
        else:
            rows.append(ArrangementRow(line, day, kind, name))
    return rows, problems


def _check_arrangement(rows: Sequence[ArrangementRow], year: int) -> list[RowProblem]:
    problems = []
    seen: dict[date, int] = {}
    for row in rows:
        if not (row.day.year == year or (row.day.year == year - 1 and row.day.month == 12)):
            problems.append(RowProblem(row.line, f"{row.day.isoformat()} 不属于 {year} 年的安排"
                                                 f"（只能是 {year} 年或 {year - 1} 年 12 月的日期）"))
        if row.day in seen:
            problems.append(RowProblem(row.line, f"日期 {row.day.isoformat()} 与第 {seen[row.day]} 行重复"))
        else:
            seen[row.day] = row.line
    return problems


def import_arrangement(data: bytes, filename: str, year: int | None = None,
                       org_code: str | None = None, actor: str | None = None,
                       source: str = "import") -> ImportResult:
    """Validate a year's whole arrangement file, then replace that year with it. No commit.

    Every row is checked first; any problem raises :class:`ArrangementInvalid` before
    anything is written. ``year`` defaults to the latest year in the file; days of the
    previous December (New-Year holidays) are allowed and added, not replaced. The year is
    then marked complete for ``org_code`` (national when ``None``).
    """
    rows, problems = parse_arrangement(data, filename)
    if org_code is not None and not unit_exists(org_code):
        problems.insert(0, RowProblem(None, f"单位 {org_code} 不存在"))
    if year is None and rows:
        year = max(r.day.year for r in rows)
    if year is not None and not 1949 < year < 10000:
        problems.insert(0, RowProblem(None, f"年份 {year} 无效"))
    elif year is not None:
        problems.extend(_check_arrangement(rows, year))
    if not rows and not problems:
        problems.append(RowProblem(None, "文件中没有数据行"))
    if problems:
        raise ArrangementInvalid(sorted(problems, key=lambda p: p.line or 0))
    assert year is not None
    return _apply_arrangement(rows, year, org_code, actor, source, PurePath(filename or "").name)


def _apply_arrangement(rows: Sequence[ArrangementRow], year: int, org_code: str | None,
                       actor: str | None, source: str, filename: str) -> ImportResult:
    existing = {r.day: r for r in db.scalars(sa.select(CalendarDay).where(
        org_code_is(CalendarDay.org_code, org_code),
        CalendarDay.day >= date(year - 1, 12, 1), CalendarDay.day <= date(year, 12, 31)))}
    wanted = {r.day: r for r in rows}
    note = f"导入 {filename}" if filename else "导入"
    added = updated = removed = unchanged = 0
    years = {year}
    for day, current in sorted(existing.items()):
        if day.year == year and day not in wanted:
            remove_day(current, actor, f"{note}：新安排中没有这一天")
            removed += 1
    now = utcnow()
    for row in rows:
        current = existing.get(row.day)
        if current is None:
            current = CalendarDay(org_code=org_code, day=row.day, kind=row.kind, name=row.name,
                                  source=source, created_by=actor, created_at=now)
            db.add(current)
            record_change("add", row.day.year, actor, org_code, current, note)
            added += 1
        elif (current.kind, current.name) != (row.kind, row.name):
            before = f"原为{current.kind_label}{'：' + current.name if current.name else ''}（{current.source}）"
            current.kind, current.name, current.source = row.kind, row.name, source
            current.created_by, current.created_at = actor, now
            record_change("update", row.day.year, actor, org_code, current, f"{note}；{before}")
            updated += 1
        else:
            unchanged += 1
            continue
        years.add(row.day.year)
    mark_year_complete(year, org_code, source, actor)
    kinds = [r.kind for r in rows if r.day.year == year]
    result = ImportResult(year, org_code, added, updated, removed, unchanged,
                          kinds.count("holiday"), kinds.count("workday"), tuple(sorted(years)))
    record_change("import", year, actor, org_code, note=f"{note}：放假 {result.holidays} 天、上班 {result.workdays} 天")
    db.flush()
    return result
