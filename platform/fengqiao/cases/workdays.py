"""The working-day calendar (docs/domain.md, "Working-day calendar"): working days, office
hours, deadlines.

Two layers:

- :class:`WorkCalendar` is an immutable snapshot with pure, fast methods
  (:meth:`~WorkCalendar.is_working_day`, :meth:`~WorkCalendar.add_working_days`,
  :meth:`~WorkCalendar.add_working_hours`); the case engine can load one with
  :func:`load_calendar` and compute thousands of deadlines without touching the database.
- The module-level functions of the same names take ``org_codes`` and use a per-process
  cache of snapshots, keyed by the newest ``calendar_changes`` row: every change of the
  calendar appends one, so each call costs one indexed one-row query, and a change made by
  another process (web, CLI, RQ worker) is seen by the next call.

Rules:

- Monday–Friday are working days, except the stored ``holiday`` rows (放假); stored
  ``workday`` rows (调休上班日, always a weekend) are working days too.
- A unit's calendar is the national rows plus the additions of the unit and its ancestors
  (``org_codes`` root → leaf, or a materialized path); the most specific row wins.
- A year whose national arrangement is not complete (``calendar_years``) counts as
  Monday–Friday minus the fixed-date statutory days (元旦 1/1, 劳动节 5/1–5/2, 国庆 10/1–10/3),
  and any deadline counted through such a year is ``provisional``.
- Working-day limits start the *next* working day after ``start`` and end at the close
  (17:30 local) of the Nth; office hours are 08:30–12:00 and 14:00–17:30 (local).

Changes (seeding from ``chinese_calendar``, file imports, single days added or removed by
an admin) are recorded in ``calendar_changes``; callers commit, then call
:func:`announce_calendar_changed`, which sends :data:`fengqiao.signals.calendar_changed`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.errors import ValidationFailed
from fengqiao.models import CalendarChange, CalendarDay, CalendarYear, OrgUnit
from fengqiao.models.calendar_days import KIND_LABELS
from fengqiao.tabular import read_table

CLOSE_OF_DAY = time(17, 30)
OFFICE_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))

# Statutory days on a fixed solar date: the fallback for a year not yet entered.
FIXED_DATE_HOLIDAYS: Mapping[tuple[int, int], str] = {
    (1, 1): "元旦",
    (5, 1): "劳动节", (5, 2): "劳动节",
    (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节",
}

CHINESE_CALENDAR_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
KIND_WORDS = {
    "放假": "holiday", "休": "holiday", "休息": "holiday", "holiday": "holiday",
    "上班": "workday", "班": "workday", "调休上班": "workday", "workday": "workday",
}
MAX_NAME = 64
MAX_FILE_ROWS = 1000
MAX_FILE_COLUMNS = 50  # 日期、类型、名称 and whatever notes people keep beside them
MAX_DAYS_ARG = 10000  # ``fengqiao calendar due``: about forty years of working days

OrgCodes = str | Sequence[str] | None


# ---- pure computation ------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """When a limit ends (aware, Asia/Shanghai) and whether it rests on a guessed year."""

    at: datetime
    provisional: bool = False

    def __str__(self) -> str:
        return self.at.isoformat() + (" (provisional)" if self.provisional else "")


def to_local(value: datetime | date) -> datetime:
    """An aware Asia/Shanghai datetime; naive datetimes are local time, dates are midnight."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=LOCAL_TZ)
    if value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(LOCAL_TZ)


@dataclass(frozen=True)
class WorkCalendar:
    """One jurisdiction's calendar: its special days and the nationally complete years."""

    special: Mapping[date, str] = field(default_factory=dict)  # day → "holiday" | "workday"
    complete_years: frozenset[int] = frozenset()

    def is_complete(self, year: int) -> bool:
        return year in self.complete_years

    def is_working_day(self, day: date | datetime) -> bool:
        if isinstance(day, datetime):
            day = to_local(day).date()
        kind = self.special.get(day)
        if kind is not None:
            return kind == "workday"
        if day.weekday() >= 5:
            return False
        return day.year in self.complete_years or (day.month, day.day) not in FIXED_DATE_HOLIDAYS

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _provisional(self, first: date, last: date) -> bool:
        return any(y not in self.complete_years for y in range(first.year, last.year + 1))

    def add_working_days(self, start: datetime | date, n: int, close: time = CLOSE_OF_DAY) -> Deadline:
        """The close of the Nth working day after ``start``'s day (counting starts next day).

        ``n == 0`` is a same-day limit: the close of ``start``'s day when that is a working
        day not yet closed, else the close of the next working day.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, not {n!r}")
        local = to_local(start)
        today = local.date()
        if n == 0:
            first = today
            if self.is_working_day(today) and local.time() < close:
                target = today
            else:
                target = self.next_working_day(today)
        else:
            first = today + timedelta(days=1)
            target = today
            for _ in range(n):
                target = self.next_working_day(target)
        at = datetime.combine(target, close, tzinfo=LOCAL_TZ)
        return Deadline(at, self._provisional(first, target))

    def add_working_hours(self, start: datetime | date, hours: float | timedelta) -> Deadline:
        """``hours`` of office time (08:30–12:00, 14:00–17:30 on working days) after ``start``."""
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if remaining < timedelta(0):
            raise ValueError("hours must not be negative")
        moment = to_local(start)
        day = first = moment.date()
        while True:
            if self.is_working_day(day):
                for opens, closes in OFFICE_HOURS:
                    period_end = datetime.combine(day, closes, tzinfo=LOCAL_TZ)
                    if moment >= period_end:
                        continue
                    begin = max(moment, datetime.combine(day, opens, tzinfo=LOCAL_TZ))
                    available = period_end - begin
                    if remaining <= available:
                        return Deadline(begin + remaining, self._provisional(first, day))
                    remaining -= available
                    moment = period_end
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


# ---- loading with a per-process cache ---------------------------------------------------


def org_codes_of(org: OrgCodes) -> tuple[str, ...]:
    """``None`` (national), a materialized path ``/339901/339901001/``, one code, or codes."""
    if org is None:
        return ()
    if isinstance(org, str):
        return tuple(c for c in org.split("/") if c)
    path = getattr(org, "path", None)
    if isinstance(path, str):
        return org_codes_of(path)
    return tuple(org)


def jurisdiction_of(code: str) -> tuple[str, ...] | None:
    """The codes root → leaf of the unit ``code`` (its calendar's sources); None if unknown."""
    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == code))
    return org_codes_of(path) if path else None


_cache: dict[tuple, WorkCalendar] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def _stamp() -> tuple:
    """The database and its newest calendar change: changes whenever the calendar does.

    Looked up once per request (a submission computes a deadline and its 临期 moment)."""
    if has_request_context() and "fengqiao_calendar_stamp" in g:
        return g.fengqiao_calendar_stamp
    last = db.execute(
        sa.select(CalendarChange.id, CalendarChange.at).order_by(CalendarChange.id.desc()).limit(1)
    ).first()
    stamp = (str(db.get_bind().url), tuple(last) if last else None)
    if has_request_context():
        g.fengqiao_calendar_stamp = stamp
    return stamp


def _org_is(column, org_code: str | None):
    return column.is_(None) if org_code is None else column == org_code


def _build(codes: tuple[str, ...]) -> WorkCalendar:
    rank = {None: 0, **{code: i + 1 for i, code in enumerate(codes)}}
    query = sa.select(CalendarDay.day, CalendarDay.kind, CalendarDay.org_code).where(
        sa.or_(CalendarDay.org_code.is_(None), CalendarDay.org_code.in_(codes))
        if codes else CalendarDay.org_code.is_(None)
    )
    special: dict[date, str] = {}
    for day, kind, _org in sorted(db.execute(query), key=lambda r: rank[r.org_code]):
        special[day] = kind  # later = more specific jurisdiction: wins
    complete = db.scalars(
        sa.select(CalendarYear.year).where(CalendarYear.org_code.is_(None), CalendarYear.complete)
    )
    return WorkCalendar(special, frozenset(complete))


def load_calendar(org_codes: OrgCodes = None) -> WorkCalendar:
    """The calendar snapshot for a jurisdiction (national when ``None``); cached per process."""
    codes = org_codes_of(org_codes)
    key = (_stamp(), codes)
    calendar = _cache.get(key)
    if calendar is None:
        calendar = _build(codes)
        with _cache_lock:
            for stale in [k for k in _cache if k[0][0] == key[0][0] and k[0] != key[0]]:
                del _cache[stale]  # the same database, an older calendar
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = calendar
    return calendar


def invalidate_cache() -> None:
    """Forget every cached snapshot (changes are detected anyway; this frees memory)."""
    with _cache_lock:
        _cache.clear()
    if has_request_context():
        g.pop("fengqiao_calendar_stamp", None)


def is_working_day(day: date | datetime, org_codes: OrgCodes = None) -> bool:
    return load_calendar(org_codes).is_working_day(day)


def add_working_days(start: datetime | date, n: int, org_codes: OrgCodes = None) -> Deadline:
    """End of the Nth working day after ``start`` (17:30 local), provisional if guessed."""
    return load_calendar(org_codes).add_working_days(start, n)


def add_working_hours(start: datetime | date, hours: float | timedelta,
                      org_codes: OrgCodes = None) -> Deadline:
    """``hours`` of office time after ``start`` (acknowledgement limits)."""
    return load_calendar(org_codes).add_working_hours(start, hours)


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


# ---- years ------------------------------------------------------------------------------


def complete_years(org_code: str | None = None) -> set[int]:
    return set(db.scalars(sa.select(CalendarYear.year).where(
        _org_is(CalendarYear.org_code, org_code), CalendarYear.complete)))


def missing_years(today: date | None = None) -> list[int]:
    """This year and next year, if their national arrangement has not been entered."""
    today = today or today_local()
    done = complete_years()
    return [y for y in (today.year, today.year + 1) if y not in done]


@dataclass(frozen=True)
class YearStatus:
    org_code: str | None
    org_name: str
    year: int
    complete: bool
    source: str | None
    entered_by: str | None
    entered_at: datetime | None
    holidays: int
    workdays: int


def year_overview(today: date | None = None) -> list[YearStatus]:
    """Every (jurisdiction, year) with rows or a year record, plus this and next year."""
    today = today or today_local()
    counts: dict[tuple[str | None, int], dict[str, int]] = {}
    year_of = sa.extract("year", CalendarDay.day)
    query = sa.select(CalendarDay.org_code, year_of, CalendarDay.kind, sa.func.count()).group_by(
        CalendarDay.org_code, year_of, CalendarDay.kind)
    for org_code, year, kind, n in db.execute(query):
        counts.setdefault((org_code, int(year)), {})[kind] = n
    records = {(r.org_code, r.year): r for r in db.scalars(sa.select(CalendarYear))}
    keys = set(counts) | set(records) | {(None, today.year), (None, today.year + 1)}
    names = dict(db.execute(sa.select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_({k[0] for k in keys if k[0]}))).all())
    result = []
    for org_code, year in sorted(keys, key=lambda k: (k[0] or "", -k[1])):
        record = records.get((org_code, year))
        kinds = counts.get((org_code, year), {})
        result.append(YearStatus(
            org_code, names.get(org_code, org_code) if org_code else "全国", year,
            bool(record and record.complete), record.source if record else None,
            record.entered_by if record else None, record.entered_at if record else None,
            kinds.get("holiday", 0), kinds.get("workday", 0)))
    return result


def days_of_year(year: int, org_code: str | None = None, *, all_orgs: bool = False) -> list[CalendarDay]:
    query = sa.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    if not all_orgs:
        query = query.where(_org_is(CalendarDay.org_code, org_code))
    return list(db.scalars(query.order_by(CalendarDay.day, CalendarDay.org_code)))


def recent_changes(limit: int = 30) -> list[CalendarChange]:
    return list(db.scalars(sa.select(CalendarChange).order_by(CalendarChange.id.desc()).limit(limit)))


# ---- changes ----------------------------------------------------------------------------


def announce_calendar_changed(years: Iterable[int], org_code: str | None = None) -> None:
    """After commit: drop cached snapshots and send ``calendar_changed`` (years, org)."""
    years = sorted(set(years))
    if not years:
        return
    from fengqiao import signals

    invalidate_cache()
    signals.send(signals.calendar_changed, years=years, org=org_code)


def _log(action: str, year: int, actor: str | None, org_code: str | None = None,
         day: CalendarDay | None = None, note: str = "") -> None:
    db.add(CalendarChange(
        action=action, year=year, actor=actor, org_code=org_code, note=note[:255],
        day=day.day if day else None, kind=day.kind if day else None,
        name=day.name if day else None, source=day.source if day else None,
    ))


def _mark_complete(year: int, org_code: str | None, source: str, actor: str | None) -> None:
    record = db.scalar(sa.select(CalendarYear).where(
        _org_is(CalendarYear.org_code, org_code), CalendarYear.year == year))
    if record is None:
        record = CalendarYear(org_code=org_code, year=year)
        db.add(record)
    record.complete = True
    record.source = source
    record.entered_by = actor
    record.entered_at = utcnow()


def chinese_calendar_years() -> list[int]:
    """The years the installed ``chinese_calendar`` package knows."""
    from chinese_calendar import constants

    return sorted({d.year for d in constants.holidays} | {d.year for d in constants.workdays})


def seed_from_chinese_calendar(years: Iterable[int] | None = None) -> list[int]:
    """Copy ``chinese_calendar``'s 放假 and 调休 days as national rows and mark those years
    complete; commits, announces, and returns the years it seeded.

    Idempotent, and never overrides people: a year that already has a national
    ``calendar_years`` record (seeded, imported or entered) is skipped, and a day that
    already has a national row is kept as it is. December days of the year before a seeded
    year (New-Year holidays announced with the next year's arrangement) are added when
    missing.
    """
    import chinese_calendar
    from chinese_calendar import constants

    known = chinese_calendar_years()
    wanted = set(known) if years is None else set(years) & set(known)
    recorded = set(db.scalars(sa.select(CalendarYear.year).where(CalendarYear.org_code.is_(None))))
    todo = sorted(wanted - recorded)
    if not todo:
        return []
    library = {d: ("holiday", n) for d, n in constants.holidays.items()}
    library.update({d: ("workday", n) for d, n in constants.workdays.items()})
    existing = set(db.scalars(sa.select(CalendarDay.day).where(
        CalendarDay.org_code.is_(None),
        CalendarDay.day >= date(todo[0] - 1, 12, 1), CalendarDay.day <= date(todo[-1], 12, 31))))
    version = getattr(chinese_calendar, "__version__", "")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for year in todo:
        days = sorted(d for d in library if d.year == year or (d.year == year - 1 and d.month == 12))
        added = 0
        for day in days:
            if day in existing:
                continue
            kind, name = library[day]
            rows.append({"org_code": None, "day": day, "kind": kind,
                         "name": CHINESE_CALENDAR_NAMES.get(name, name), "source": "chinese-calendar",
                         "created_by": None, "created_at": now})
            existing.add(day)
            added += 1
        db.add(CalendarYear(org_code=None, year=year, complete=True, source="chinese-calendar",
                            entered_by=None, entered_at=now))
        changes.append({"action": "seed", "year": year, "actor": None, "org_code": None, "at": now,
                        "note": f"chinese-calendar {version}：{added} 天"})
    if rows:
        db.execute(sa.insert(CalendarDay), rows)
    db.execute(sa.insert(CalendarChange), changes)
    db.commit()
    announce_calendar_changed(todo)
    return todo


def _check_day(day: date, kind: str, name: str) -> list[tuple[str, str]]:
    problems = []
    if kind not in KIND_LABELS:
        problems.append(("kind", "类型应为「放假」或「上班」"))
    elif kind == "workday" and day.weekday() < 5:
        problems.append(("kind", f"{day.isoformat()} 是{WEEKDAY_NAMES[day.weekday()]}，"
                                 "「上班」只用于周六、周日的调休上班日"))
    if len(name) > MAX_NAME:
        problems.append(("name", f"名称最多 {MAX_NAME} 个字符"))
    return problems


def _check_org(org_code: str | None) -> None:
    if org_code is not None and db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == org_code)) is None:
        raise ValidationFailed([("/org", f"单位 {org_code} 不存在", "unknown")])


def add_day(day: date, kind: str, name: str = "", org_code: str | None = None,
            actor: str | None = None) -> CalendarDay:
    """Add one 放假/上班 day for a jurisdiction (does not mark its year complete). No commit."""
    name = (name or "").strip()
    _check_org(org_code)
    problems = [(f"/{f}", m, "invalid") for f, m in _check_day(day, kind, name)]
    if problems:
        raise ValidationFailed(problems)
    existing = db.scalar(sa.select(CalendarDay).where(
        _org_is(CalendarDay.org_code, org_code), CalendarDay.day == day))
    if existing is not None:
        raise ValidationFailed([("/day", f"{day.isoformat()} 已有安排（{existing.kind_label}"
                                         f"{'：' + existing.name if existing.name else ''}），请先删除",
                                 "duplicate")])
    row = CalendarDay(org_code=org_code, day=day, kind=kind, name=name, source="admin",
                      created_by=actor, created_at=utcnow())
    db.add(row)
    _log("add", day.year, actor, org_code, row)
    db.flush()
    return row


def remove_day(row: CalendarDay, actor: str | None = None, note: str = "") -> int:
    """Delete a day, keeping a ``remove`` history row; returns its year. No commit."""
    _log("remove", row.day.year, actor, row.org_code, row, note)
    db.delete(row)
    db.flush()
    return row.day.year


# ---- importing a year's arrangement ----------------------------------------------------


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
    except ValidationFailed as refused:
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
            messages.extend(m for _f, m in _check_day(day, kind, name))
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
    if org_code is not None and db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == org_code)) is None:
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
        _org_is(CalendarDay.org_code, org_code),
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
            _log("add", row.day.year, actor, org_code, current, note)
            added += 1
        elif (current.kind, current.name) != (row.kind, row.name):
            before = f"原为{current.kind_label}{'：' + current.name if current.name else ''}（{current.source}）"
            current.kind, current.name, current.source = row.kind, row.name, source
            current.created_by, current.created_at = actor, now
            _log("update", row.day.year, actor, org_code, current, f"{note}；{before}")
            updated += 1
        else:
            unchanged += 1
            continue
        years.add(row.day.year)
    _mark_complete(year, org_code, source, actor)
    kinds = [r.kind for r in rows if r.day.year == year]
    result = ImportResult(year, org_code, added, updated, removed, unchanged,
                          kinds.count("holiday"), kinds.count("workday"), tuple(sorted(years)))
    _log("import", year, actor, org_code, note=f"{note}：放假 {result.holidays} 天、上班 {result.workdays} 天")
    db.flush()
    return result


# ---- command-line input -----------------------------------------------------------------


def parse_start(text: str) -> datetime:
    """``2025-09-30`` or ``2025-09-30T09:00[+08:00]`` → aware local datetime; ValueError."""
    text = (text or "").strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return to_local(datetime.fromisoformat(text))


# ---- elapsed time -----------------------------------------------------------------------


def working_days_between(start: datetime | date, end: datetime | date, org_codes: OrgCodes = None,
                         calendar: WorkCalendar | None = None) -> int:
    """Working days after ``start``'s local day up to and including ``end``'s (the way limits
    count: a case closed the day it came in took 0); 0 when ``end`` is not after ``start``.
    Pass a loaded ``calendar`` to count many spans without a query each."""
    calendar = calendar or load_calendar(org_codes)
    first, last = to_local(start).date(), to_local(end).date()
    return sum(1 for i in range(1, (last - first).days + 1) if calendar.is_working_day(first + timedelta(days=i)))
