"""Leaders' numbers (docs/domain.md, "Metrics") for a scope, a unit's subtree, a period and
a case type.

Every figure is aggregated in SQL (GROUP BY over a scoped subquery), never by loading the
cases: a county may hold a million. Each figure has one basis, stated in the result:

- cohort: cases *received* (created) in the period — received, closed, 办结率, 响应率,
  满意率, handling time, categories, the unit table;
- due: cases whose (extended) deadline falls in the period — 按期办结率; open overdue cases
  stay in the denominator;
- flow: cases closed on each day of the period — the closed series;
- snapshot: open cases past their deadline right now, whenever received — 超期.

Void cases (withdrawn, cancelled, not accepted, merged into another) never enter a
denominator. The period is ``[start, end)`` in local (Asia/Shanghai) dates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any

import sqlalchemy as sa
from flask import current_app

from fengqiao.cases import queries
from fengqiao.cases.workdays import load_calendar, today_local
from fengqiao.cases.workflow import case_type
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.errors import ValidationFailed
from fengqiao.forms import store
from fengqiao.masking import mask_text
from fengqiao.models import Case, OrgUnit
from fengqiao.orgs.scope import Scope
from fengqiao.orgs.service import get_by_code

PERMISSION = "metrics.view"  # whose subtrees a person's figures and ledgers cover
VOID_STATES = ("withdrawn", "cancelled", "rejected")  # 撤单, 撤销, 不予受理
CATEGORY_FIELDS = ("category", "request_type", "dispute_type", "service_item")
SATISFIED = ("satisfied", "basically_satisfied")
PRESETS = {"this_month": "本月", "last_month": "上月", "this_quarter": "本季度", "this_year": "本年",
           "custom": "自定义"}
MAX_DAYS = 5 * 366  # longest period
DAILY_MAX_DAYS = 92  # longer periods are charted by month
OVERDUE_LIMIT = 20
TOP_CATEGORIES = 10
MAX_UNITS = 200  # children listed in the unit table
FIRST_YEAR, LAST_YEAR = 2000, 2099

BASIS = {
    "cohort": "受理量、办结量、办结率、响应率、满意率、办理时长、类别与单位分布：统计期间内受理的事项（按当前状态）",
    "due": "按期办结率：办理期限在统计期间内的事项（已超期未办结的计入分母，挂账中的不计）",
    "flow": "每日办结量：统计期间内办结的事项",
    "snapshot": "超期：当前已超过期限仍未办结的事项（不限受理时间，挂账中的不计）",
    "excluded": "已撤单、已撤销、不予受理及被合并的事项不计入",
}


# ---- the period and the filters --------------------------------------------------------


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    preset: str = "custom"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.last_day.isoformat()}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware instants: local midnight of ``start`` and of ``end``."""
        return (datetime.combine(self.start, time(0), tzinfo=LOCAL_TZ),
                datetime.combine(self.end, time(0), tzinfo=LOCAL_TZ))


def preset_period(preset: str, today: date) -> Period:
    """本月 / 上月 / 本季度 / 本年 around ``today`` (a local date)."""
    month = _month_start(today)
    if preset == "last_month":
        return Period(_month_start(today, -1), month, preset)
    if preset == "this_quarter":
        first = _month_start(month, -((today.month - 1) % 3))
        return Period(first, _month_start(first, 3), preset)
    if preset == "this_year":
        return Period(date(today.year, 1, 1), date(today.year + 1, 1, 1), preset)
    return Period(month, _month_start(today, 1), "this_month")


@dataclass(frozen=True)
class Filters:
    period: Period
    org: OrgUnit | None = None
    type: str | None = None


def _parse_day(text: str, pointer: str, what: str, problems: list) -> date | None:
    if not text:
        problems.append((pointer, f"请填写{what}", "required"))
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or len(text) != 10:
        problems.append((pointer, f"{what}格式应为 YYYY-MM-DD，如 2026-11-01", "format"))
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.append((pointer, f"{what}超出可统计范围（{FIRST_YEAR}–{LAST_YEAR} 年）", "range"))
        return None
    return day


def resolve_filters(scope: Scope, *, org: str = "", type_: str = "", start: str = "", end: str = "",
                    preset: str = "", inclusive_end: bool = False, pointers: tuple[str, str] = ("/from", "/to"),
                    today: date | None = None) -> Filters:
    """Check what a person or an integration asked for; every problem as a Chinese message.

    ``preset`` (本月 …) wins over dates; without either the period is this month. The API's
    ``to`` is exclusive, the page's end date (``inclusive_end``) is the last day counted.
    """
    problems: list[tuple[str, str, str]] = []
    today = today or today_local()
    preset, start, end = (preset or "").strip(), (start or "").strip(), (end or "").strip()
    period = None
    if preset and preset not in PRESETS:
        problems.append(("/preset", "统计期间只能是本月、上月、本季度、本年或自定义", "enum"))
    elif preset and preset != "custom":
        period = preset_period(preset, today)
    elif not preset and not start and not end:
        period = preset_period("this_month", today)
    else:
        first = _parse_day(start, pointers[0], "开始日期", problems)
        last = _parse_day(end, pointers[1], "结束日期", problems)
        if first and last:
            stop = last + timedelta(days=1) if inclusive_end else last
            if stop <= first:
                problems.append((pointers[1], "结束日期不能早于开始日期" if inclusive_end
                                 else "结束日期须晚于开始日期（不含结束日期当天）", "range"))
            elif (stop - first).days > MAX_DAYS:
                problems.append((pointers[1], "统计期间最长 5 年", "range"))
            else:
                period = Period(first, stop, "custom")
    unit = None
    if (org or "").strip():
        unit = get_by_code(org.strip())
        if unit is None or not scope.contains(unit.path):
            problems.append(("/org", "组织机构代码不存在或无权查看", "unknown_org"))
    type_ = (type_ or "").strip()
    if type_ and type_ not in current_app.extensions["fengqiao.case_types"].types:
        problems.append(("/type", f"未知的事项类型：{type_}", "enum"))
    if problems:
        raise ValidationFailed(problems)
    return Filters(period, unit, type_ or None)


# ---- SQL helpers -----------------------------------------------------------------------


def local_day(column: Any) -> Any:
    """The Asia/Shanghai calendar day of a UTC timestamp column, computed by the database.

    Literals rather than bound parameters, so PostgreSQL sees the same expression wherever
    it is repeated. China has kept UTC+8 all year since 1991, hence SQLite's fixed offset.
    """
    if db.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone(sa.literal_column("'Asia/Shanghai'"), column))
    return sa.func.date(column, sa.literal_column("'+8 hours'"))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def count_if(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def not_void() -> Any:
    return sa.and_(Case.state.not_in(VOID_STATES), Case.merged_into_id.is_(None))


def overdue_clause(now: datetime) -> Any:
    """Open, not paused (挂账), past its deadline."""
    return sa.and_(Case.closed_at.is_(None), Case.deadline < now, Case.paused_at.is_(None))


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rows(stmt: sa.Select) -> list[sa.Row]:
    return list(db.execute(stmt))


def _one(stmt: sa.Select) -> list[int]:
    return [int(v or 0) for v in db.execute(stmt).one()]


# ---- the figures -----------------------------------------------------------------------
#
# The cohort is scanned twice: once grouped by (unit bucket, form, category) for the
# totals, the unit table and the categories; once grouped by (received day, closed day)
# for the received series and the handling times.


@dataclass
class _Cohort:
    """Sums of one group of received cases."""

    received: int = 0
    closed: int = 0
    responded: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    unrated: int = 0  # closed and not rated

    def add(self, other: _Cohort) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied


def _cohort_groups(cohort: sa.Select, bucket: Any) -> list[tuple[str, str | None, str | None, _Cohort]]:
    category = sa.func.coalesce(*(Case.data[name].as_string() for name in CATEGORY_FIELDS))
    sub = cohort.with_only_columns(
        bucket.label("bucket"), Case.form_key.label("form_key"), category.label("category"),
        Case.closed_at, Case.responded_at, Case.rating).subquery()
    c = sub.c
    closed = c.closed_at.is_not(None)
    query = sa.select(
        c.bucket, c.form_key, c.category, sa.func.count(), count_if(closed), count_if(c.responded_at.is_not(None)),
        count_if(c.rating == "satisfied"), count_if(c.rating == "basically_satisfied"),
        count_if(c.rating == "dissatisfied"), count_if(sa.and_(closed, c.rating.is_(None))),
    ).group_by(c.bucket, c.form_key, c.category)
    return [(b or "", f, cat, _Cohort(*(int(v or 0) for v in sums))) for b, f, cat, *sums in _rows(query)]


def _totals(groups: list) -> dict[str, Any]:
    total = _Cohort()
    for *_keys, sums in groups:
        total.add(sums)
    return {
        "received": total.received, "closed": total.closed, "completion_rate": rate(total.closed, total.received),
        "responded": total.responded, "response_rate": rate(total.responded, total.received),
        "satisfaction": {
            "satisfied": total.satisfied, "basically_satisfied": total.basically_satisfied,
            "dissatisfied": total.dissatisfied, "rated": total.rated, "unrated": total.unrated,
            "rate": rate(total.satisfied + total.basically_satisfied, total.rated),
            "participation_rate": rate(total.rated, total.closed),
        },
    }


def _on_time(base: sa.Select, period: Period, now: datetime) -> dict[str, Any]:
    start, end = period.bounds
    due = base.where(Case.deadline >= start, Case.deadline < end, not_void(),
                     sa.or_(Case.closed_at.is_not(None), overdue_clause(now)))
    sub = due.with_only_columns(Case.closed_at, Case.deadline).subquery()
    n_due, on_time = _one(sa.select(sa.func.count(), count_if(sa.and_(
        sub.c.closed_at.is_not(None), sub.c.closed_at <= sub.c.deadline))))
    return {"due": n_due, "closed_on_time": on_time, "on_time_rate": rate(on_time, n_due)}


def _day_pairs(cohort: sa.Select) -> list[tuple[date, date | None, int]]:
    """(received day, closed day or None, cases) of the cohort."""
    sub = cohort.with_only_columns(
        local_day(Case.created_at).label("opened"), local_day(Case.closed_at).label("done")).subquery()
    query = sa.select(sub.c.opened, sub.c.done, sa.func.count()).group_by(sub.c.opened, sub.c.done)
    return [(_day(a), _day(b) if b is not None else None, n) for a, b, n in _rows(query)]


def _series(base: sa.Select, pairs: list, period: Period) -> dict[str, Any]:
    start, end = period.bounds
    received: dict[date, int] = {}
    for opened, _done, n in pairs:
        received[opened] = received.get(opened, 0) + n
    flow = base.where(Case.closed_at >= start, Case.closed_at < end, not_void())
    sub = flow.with_only_columns(local_day(Case.closed_at).label("day")).subquery()
    closed = {_day(d): n for d, n in _rows(sa.select(sub.c.day, sa.func.count()).group_by(sub.c.day))}
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    if period.days <= DAILY_MAX_DAYS:
        return {"unit": "day", "points": [
            {"date": d.isoformat(), "received": received.get(d, 0), "closed": closed.get(d, 0)} for d in days]}
    months: dict[date, list[int]] = {}
    for d in days:
        totals = months.setdefault(_month_start(d), [0, 0])
        totals[0] += received.get(d, 0)
        totals[1] += closed.get(d, 0)
    return {"unit": "month", "points": [
        {"date": m.strftime("%Y-%m"), "received": r, "closed": c} for m, (r, c) in months.items()]}


def _category_labels(form_key: str | None) -> dict[str, str]:
    """Value → title for the category-like fields of a form (``oneOf`` const/title pairs)."""
    found = store.published(form_key) if form_key else None
    if not found or found[1] is None:
        return {}
    props = found[1].definition.get("schema", {}).get("properties", {})
    labels: dict[str, str] = {}
    for name in CATEGORY_FIELDS:
        for option in props.get(name, {}).get("oneOf", []):
            if isinstance(option, dict) and "const" in option:
                labels[str(option["const"])] = str(option.get("title", option["const"]))
    return labels


def _categories(groups: list) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    labels: dict[str | None, dict[str, str]] = {}
    for _bucket, form_key, value, sums in groups:
        if form_key not in labels:
            labels[form_key] = _category_labels(form_key)
        label = labels[form_key].get(value, value) if value else "未分类"
        counts[label] = counts.get(label, 0) + sums.received
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES]
    return [{"label": label, "count": n} for label, n in ranked]


def _percentile(distribution: list[tuple[int, int]], share: float) -> int | None:
    """Nearest-rank percentile of ``(value, count)`` pairs sorted by value."""
    total = sum(n for _v, n in distribution)
    if not total:
        return None
    rank, seen = max(1, math.ceil(share * total)), 0
    for value, n in distribution:
        seen += n
        if seen >= rank:
            return value
    return distribution[-1][0]


def _handling_days(pairs: list, calendar_org: str | None) -> dict[str, Any]:
    """Working days from receipt to closure (the way limits count: same day = 0), from the
    distinct (received day, closed day) pairs and one pass over the calendar."""
    pairs = [(a, b, n) for a, b, n in pairs if b is not None]
    if not pairs:
        return {"closed": 0, "mean": None, "median": None, "p90": None}
    calendar = load_calendar(calendar_org)
    first = min(a for a, _b, _n in pairs)
    last = max(b for _a, b, _n in pairs)
    index, running = {}, 0
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        running += 1 if i and calendar.is_working_day(day) else 0
        index[day] = running
    spent: dict[int, int] = {}
    for opened, done, n in pairs:
        days = max(0, index.get(done, 0) - index[opened])
        spent[days] = spent.get(days, 0) + n
    distribution = sorted(spent.items())
    count = sum(n for _d, n in distribution)
    return {"closed": count, "mean": round(sum(d * n for d, n in distribution) / count, 2),
            "median": _percentile(distribution, 0.5), "p90": _percentile(distribution, 0.9)}


def _overdue_items(base: sa.Select, now: datetime) -> list[dict[str, Any]]:
    stmt = base.where(overdue_clause(now), not_void()).order_by(Case.deadline, Case.id).limit(OVERDUE_LIMIT)
    items = []
    for case in db.scalars(stmt).unique():
        ctype = case_type(case.type)
        items.append({
            "number": case.number, "title": mask_text(case.title), "type": case.type,
            "type_title": ctype.title, "state": case.state, "state_title": ctype.state_title(case.state),
            "org": case.org.code, "org_name": case.org.name,
            "assignee": case.assignee.username if case.assignee else None,
            "assignee_label": case.assignee.label if case.assignee else None,
            "deadline": case.deadline.isoformat(),
            "deadline_local": case.deadline.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            "overdue_days": math.ceil((now - case.deadline).total_seconds() / 86400),
        })
    return items


def _overdue_by_bucket(base: sa.Select, bucket: Any, now: datetime) -> dict[str, int]:
    sub = base.where(overdue_clause(now), not_void()).with_only_columns(bucket.label("bucket")).subquery()
    return {b or "": n for b, n in _rows(sa.select(sub.c.bucket, sa.func.count()).group_by(sub.c.bucket))}


def breakdown_root(scope: Scope, org: OrgUnit | None) -> OrgUnit | None:
    """Whose children the unit table lists: the chosen unit, else the user's one root unit."""
    if org is not None:
        return org
    if len(scope.paths) == 1:
        return db.scalar(sa.select(OrgUnit).where(OrgUnit.path == scope.paths[0]))
    return None


def _bucket_units(scope: Scope, root: OrgUnit | None) -> list[OrgUnit]:
    if root is None:
        stmt = sa.select(OrgUnit).where(OrgUnit.path.in_(scope.paths))
    else:
        stmt = sa.select(OrgUnit).where(OrgUnit.parent_id == root.id, OrgUnit.active)
    return list(db.scalars(stmt.order_by(OrgUnit.path).limit(MAX_UNITS)))


def _bucket(units: list[OrgUnit]) -> Any:
    """SQL: the code of the listed unit whose subtree owns the case, else ''."""
    if not units:
        return sa.literal_column("''")
    return sa.case(*((Scope((u.path,)).clause(OrgUnit.path), u.code) for u in units), else_="")


def _units(units: list[OrgUnit], root: OrgUnit | None, groups: list,
           overdue: dict[str, int]) -> list[dict[str, Any]]:
    """One row per child unit (its whole subtree), plus the root's own cases when it has any."""
    if not units:
        return []
    figures: dict[str, _Cohort] = {}
    for bucket, _form, _category, sums in groups:
        figures.setdefault(bucket, _Cohort()).add(sums)
    own = root.name + "（本级）" if root is not None else "其他（派至本单位）"
    rows = []
    for code, name, optional in [(u.code, u.name, u.kind == "department") for u in units] + [("", own, True)]:
        sums, late = figures.get(code, _Cohort()), overdue.get(code, 0)
        if optional and not (sums.received or late):
            continue  # a department or the root itself without cases of its own: noise
        rows.append({"org": code or None, "name": name, "received": sums.received, "closed": sums.closed,
                     "completion_rate": rate(sums.closed, sums.received), "rated": sums.rated,
                     "satisfaction_rate": rate(sums.satisfied + sums.basically_satisfied, sums.rated),
                     "overdue": late})
    return rows


def compute(scope: Scope, filters: Filters, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the dashboard and of ``GET /api/v1/metrics``."""
    now = now or utcnow()
    period = filters.period
    start, end = period.bounds
    base = queries.filtered(queries.cases_in(scope), type_=filters.type, org=filters.org)
    cohort = base.where(Case.created_at >= start, Case.created_at < end, not_void())
    root = breakdown_root(scope, filters.org)
    units = _bucket_units(scope, root)
    bucket = _bucket(units)
    groups = _cohort_groups(cohort, bucket)
    pairs = _day_pairs(cohort)
    overdue = _overdue_by_bucket(base, bucket, now)
    result: dict[str, Any] = {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "last_day": period.last_day.isoformat(), "label": period.label,
                   "preset": period.preset, "preset_label": PRESETS.get(period.preset, "")},
        "org": {"code": filters.org.code, "name": filters.org.name} if filters.org else None,
        "type": filters.type,
        "basis": BASIS,
    }
    result.update(_totals(groups))
    result.update(_on_time(base, period, now))
    result["handling_days"] = _handling_days(pairs, root.path if root is not None else None)
    result["overdue"] = {"count": sum(overdue.values()), "items": _overdue_items(base, now)}
    result["categories"] = _categories(groups)
    result["series"] = _series(base, pairs, period)
    result["units"] = _units(units, root, groups, overdue)
    result["generated_at"] = now.isoformat()
    return result


CACHE_SECONDS = 60
CACHE_SIZE = 256
SHARED_PREFIX = "fengqiao:metrics:"
_cache_lock = threading.Lock()


def _shared_cache() -> Any:
    """The deployment's Redis (when configured), shared by every web process, so one of them
    computes a dashboard per minute instead of each; None without Redis."""
    ext = current_app.extensions
    if "fengqiao.metrics_redis" not in ext:
        url = ext["fengqiao.settings"].redis_url
        if url:
            from redis import Redis

            ext["fengqiao.metrics_redis"] = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        else:
            ext["fengqiao.metrics_redis"] = None
    return ext["fengqiao.metrics_redis"]


def _shared_key(key: tuple) -> str:
    return SHARED_PREFIX + hashlib.sha256(repr(key).encode()).hexdigest()


def _shared_get(key: tuple) -> dict[str, Any] | None:
    from redis.exceptions import RedisError

    shared = _shared_cache()
    if shared is None:
        return None
    try:
        raw = shared.get(_shared_key(key))
    except RedisError:  # Redis down: every process computes for itself, as without Redis
        return None
    return json.loads(raw) if raw else None


def _shared_put(key: tuple, figures: dict[str, Any]) -> None:
    from redis.exceptions import RedisError

    shared = _shared_cache()
    if shared is not None:
        with contextlib.suppress(RedisError):
            shared.set(_shared_key(key), json.dumps(figures, ensure_ascii=False), ex=CACHE_SECONDS)


def cached(scope: Scope, filters: Filters) -> dict[str, Any]:
    """``compute``, reused for a minute per (scope, filters): a dashboard aggregates a whole
    period of cases, and supervisors reopen it often; the page shows ``generated_at``. The
    figures are kept in this process and, with Redis, for every process of the deployment.
    Callers that need this instant's figures call ``compute``."""
    cache = current_app.extensions.setdefault("fengqiao.metrics_cache", {})
    key = (scope.paths, filters.period.start, filters.period.end,
           filters.org.code if filters.org else None, filters.type)
    now = monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    figures, born = _shared_get(key), now
    if figures is None:
        figures = compute(scope, filters)
        _shared_put(key, figures)
    else:  # as old here as it is in Redis: never kept past a minute from its computation
        born -= max(0.0, (utcnow() - datetime.fromisoformat(figures["generated_at"])).total_seconds())
    with _cache_lock:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = (born, figures)
    return figures


def type_choices() -> Iterable[tuple[str, str]]:
    """(key, title) of every case type, for the filters."""
    types = current_app.extensions["fengqiao.case_types"].types
    return sorted(((k, t.title) for k, t in types.items()), key=lambda kt: kt[0])
