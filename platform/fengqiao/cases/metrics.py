"""Leaders' numbers (docs/domain.md, "Metrics") for a scope, a unit's subtree, a period and
a case type.

Every figure is aggregated in SQL (GROUP BY over a scoped subquery), never by loading the
cases: a county may hold a million. Each figure has one basis, stated in the result:

- cohort: cases *received* (created) in the period — received, closed, 办结率, 响应率,
  满意率, handling time, categories, the unit table, and the practice rates 自行处置率,
  就地化解率, 退单率, 重办率, 重复投诉率 (:data:`RATES`);
- due: cases whose first clock (``due_at``: extended and credited pauses, never reset by
  rework or a reopening) ends in the period — 按期办结率, counted at the *first* closure;
  open overdue cases stay in the denominator;
- flow: cases closed on each day of the period — the closed series; mediations ended and
  follow-ups made in the period — 调解成功率, 解决率;
- snapshot: open cases past their deadline right now, whenever received — 超期.

The rates read the case history (``case_events``) through correlated ``EXISTS`` on the
transition names listed once below (:data:`ON_THE_SPOT_ACTIONS` …).

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

from fengqiao.cases import categories, queries
from fengqiao.cases.case_types import case_type
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.forms import store
from fengqiao.labels import code_label
from fengqiao.masking import mask_text
from fengqiao.models import Case, CaseEvent, CaseParticipant, Membership, OrgUnit, Submission
from fengqiao.orgs.scope import Scope
from fengqiao.orgs.service import get_by_code
from fengqiao.workcalendar import load_calendar, today_local

CLOCK_STOPPED = ("met", "missed")  # sla_status of an open case whose clock has ended (cases.steps)
PERMISSION = "metrics.view"  # whose subtrees a person's figures and ledgers cover
VOID_STATES = ("withdrawn", "cancelled", "rejected")  # 撤单, 撤销, 不予受理
CATEGORY_FIELDS = queries.CATEGORY_FIELDS  # the one definition (cases/categories.py)
SATISFIED = ("satisfied", "basically_satisfied")
PRESETS = {"this_month": "本月", "last_month": "上月", "this_quarter": "本季度", "this_year": "本年",
           "custom": "自定义"}
MAX_DAYS = 5 * 366  # longest period
DAILY_MAX_DAYS = 92  # longer periods are charted by month
OVERDUE_LIMIT = 20
TOP_CATEGORIES = 10
MAX_UNITS = 200  # children listed in the unit table
FIRST_YEAR, LAST_YEAR = 2000, 2099

# Transition names (case types in form_definitions/) the practice rates read from the case
# history: the one place to change when a case type renames a step.
ON_THE_SPOT_ACTIONS = ("self_handle", "answer", "finish_on_spot")  # 自行处置, 即时答复, 即办办结
ACKNOWLEDGE_ACTIONS = ("acknowledge",)  # 签收
SELF_HANDLE_ACTIONS = ("self_handle",)  # 网格员自行处置结案
SEND_BACK_ACTIONS = ("send_back",)  # 退单
REDO_ACTIONS = ("reopen", "redo", "verify_fail")  # 重办, 审核退回重办, 核查不通过（返工）
MEDIATION_AGREED = ("agree",)  # 达成协议
MEDIATION_FAILED = ("fail",)  # 调解不成
FOLLOW_UP_ACTIONS = ("follow_up",)  # 回访 (changes: reached, solved)
INCIDENT_TYPES = ("grid_incident",)  # 自行处置率's denominator: grid workers' incident reports
REPORTER_ROLE = "grid_worker"
LOCAL_LEVELS = ("community", "grid", "building")  # 就地: 社区/村 and below
REPEAT_DAYS = 30  # 重复投诉: a prior case closed this many days before; setting repeat_complaint_days

BASIS = {
    "cohort": "受理量、办结量、办结率、满意率、办理时长、类别与单位分布：统计期间内受理的事项（按当前状态）；"
              "办理时长为受理至办结的工作日数，扣除挂账、补正等暂停的时长（按自然日从受理日起顺延）",
    "due": "按期办结率：考核期限（含批准的延期和挂账顺延，不因审核退回、重办重新计算）在统计期间内的事项，"
           "按首次办结时间判断是否按期，首次办结已超期的重办后仍算超期；已超期未办结的计入分母，挂账中的不计",
    "response": "响应率：统计期间内受理的事项中，（派单后在签收时限内签收的 + 当场办结的）÷（派过单的 + 当场办结的）；"
                "当场办结指未派单即以自行处置、即时答复或即办办结结案；签收晚于签收时限（办理记录标为超时）的不算响应",
    "self_handling": "自行处置率：统计期间内网格员上报的网格事件中，由网格员自行处置结案的 ÷ 网格员上报的网格事件",
    "local_resolution": "就地化解率：统计期间内受理且已办结的事项中，在社区/村及以下办结的 ÷ 已办结；"
                        "上报至街道及以上、或派至职能部门或街道及以上单位承办的，不算就地化解",
    "send_back": "退单率：统计期间内受理且派过单的事项中，被退单的 ÷ 派过单的",
    "redo": "重办率：统计期间内受理且办结过的事项中，被重办（重办、审核退回重办、核查不通过返工）的 ÷ 办结过的",
    "repeat": "重复投诉率：统计期间内受理的事项中，受理前 {days} 天内已有同一诉求人（手机号后四位相同）、同一单位、"
              "同一类型和类别的事项办结的 ÷ 受理量",
    "mediation": "调解成功率：统计期间内调解结束的纠纷中，达成协议的 ÷（达成协议 + 调解不成）",
    "resolution": "解决率：统计期间内完成的回访中，联系上群众且群众表示已解决的 ÷ 联系上群众的回访",
    "flow": "每日办结量：统计期间内办结的事项",
    "snapshot": "超期：当前已超过期限仍未办结的事项（不限受理时间，挂账中的不计）",
    "excluded": "已撤单、已撤销、不予受理及被合并的事项不计入",
}
# The practice rates, in the dashboard's order: key → (label, numerator's name, denominator's).
RATES = {
    "response": ("响应率", "按时签收或当场办结", "派单或当场办结"),
    "self_handling": ("自行处置率", "自行处置结案", "网格员上报"),
    "local_resolution": ("就地化解率", "社区/村及以下办结", "已办结"),
    "send_back": ("退单率", "被退单", "派过单"),
    "redo": ("重办率", "被重办", "办结过"),
    "repeat": ("重复投诉率", "重复投诉", "受理"),
    "mediation": ("调解成功率", "达成协议", "调解结束"),
    "resolution": ("解决率", "已解决", "联系上群众的回访"),
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
    category: str | None = None  # 类别 (cases/categories.py), within ``type`` when both are given


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
                    today: date | None = None, category: str = "") -> Filters:
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
    if type_ and type_ not in {key for key, _title in type_choices()}:
        problems.append(("/type", f"未知的事项类型：{type_}", "enum"))
        type_ = ""
    chosen = None
    try:
        chosen = categories.check_category(category, type_ or None)
    except Invalid as failed:
        problems += failed.problems
    if problems:
        raise Invalid(problems)
    return Filters(period, unit, type_ or None, chosen)


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
    """Open, not paused (挂账), past its deadline, its clock still running (a dispute's
    clock stops at the agreement: ``sla_status`` met/missed while it stays open)."""
    return sa.and_(Case.closed_at.is_(None), Case.deadline < now, Case.paused_at.is_(None),
                   Case.sla_status.not_in(CLOCK_STOPPED))


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
    category = queries.category_of()
    sub = cohort.with_only_columns(
        bucket.label("bucket"), Case.form_key.label("form_key"), category.label("category"),
        Case.closed_at, Case.rating).subquery()
    c = sub.c
    closed = c.closed_at.is_not(None)
    query = sa.select(
        c.bucket, c.form_key, c.category, sa.func.count(), count_if(closed),
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
        "satisfaction": {
            "satisfied": total.satisfied, "basically_satisfied": total.basically_satisfied,
            "dissatisfied": total.dissatisfied, "rated": total.rated, "unrated": total.unrated,
            "rate": rate(total.satisfied + total.basically_satisfied, total.rated),
            "participation_rate": rate(total.rated, total.closed),
        },
    }


def first_due() -> Any:
    """SQL: the deadline 按期办结率 counts (the first clock; cases older than it: ``deadline``)."""
    return sa.func.coalesce(Case.due_at, Case.deadline)


def clock_stopped_at() -> Any:
    """SQL: when a transition ended the clock before closure (a dispute's agreement: the
    history row carries ``changes.sla_stopped``), else NULL."""
    return (sa.select(sa.func.min(CaseEvent.at))
            .where(CaseEvent.case_id == Case.id, CaseEvent.changes["sla_stopped"].as_string().is_not(None))
            .correlate(Case).scalar_subquery())


def first_closed() -> Any:
    """SQL: when the first clock ended — the transition that stopped it, else the first
    closure, which a reopening or rework never moves."""
    return sa.func.coalesce(clock_stopped_at(), Case.first_closed_at, Case.closed_at)


def due_clause(start: datetime, end: datetime, now: datetime) -> Any:
    """Cases 按期办结率 counts for ``[start, end)``: first clock ends in the period, and either
    closed once, or open, not paused (挂账) and past it."""
    due = first_due()
    return sa.and_(due >= start, due < end, not_void(), sa.or_(
        first_closed().is_not(None), sa.and_(Case.paused_at.is_(None), due < now)))


def late_clause(now: datetime) -> Any:
    """Late by the first clock: first closed after it, or never closed and past it."""
    due, closed = first_due(), first_closed()
    return sa.or_(closed > due, sa.and_(closed.is_(None), Case.paused_at.is_(None), due < now))


def _on_time(base: sa.Select, period: Period, now: datetime) -> dict[str, Any]:
    start, end = period.bounds
    due = base.where(due_clause(start, end, now))
    sub = due.with_only_columns(first_closed().label("closed"), first_due().label("due")).subquery()
    n_due, on_time = _one(sa.select(sa.func.count(), count_if(sa.and_(
        sub.c.closed.is_not(None), sub.c.closed <= sub.c.due))))
    return {"due": n_due, "closed_on_time": on_time, "on_time_rate": rate(on_time, n_due)}


# ---- the practice rates (docs/domain.md, "Metrics") -------------------------------------


def repeat_days() -> int:
    """重复投诉's look-back in natural days (setting ``repeat_complaint_days``, 1–365)."""
    value = current_app.extensions["fengqiao.settings"].extra.get("repeat_complaint_days", REPEAT_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return REPEAT_DAYS
    return days if 1 <= days <= 365 else REPEAT_DAYS


def basis(days: int | None = None) -> dict[str, str]:
    """:data:`BASIS` with this deployment's 重复投诉 look-back."""
    days = repeat_days() if days is None else days
    return {k: v.replace("{days}", str(days)) for k, v in BASIS.items()}


def dispatch_actions() -> tuple[str, ...]:
    """Transitions with the ``dispatch`` effect (派单, 分派) in any registered case type."""
    types = current_app.extensions["fengqiao.case_types"].types
    return tuple(sorted({t.name for ct in types.values() for t in ct.transitions.values()
                         if "dispatch" in t.effects}))


def has_event(actions: Iterable[str], *criteria: Any) -> Any:
    """SQL: the case (correlated ``Case``) has a history row of one of ``actions``."""
    actions = tuple(actions)
    if not actions:
        return sa.false()
    return sa.exists().where(CaseEvent.case_id == Case.id, CaseEvent.action.in_(actions), *criteria)


def _flag(changes_key: str) -> Any:
    """SQL: ``case_events.changes[key]`` is JSON ``true``."""
    return CaseEvent.changes[changes_key].as_boolean().is_(True)


def _local(unit: Any) -> Any:
    return sa.and_(unit.kind == "territorial", unit.level.in_(LOCAL_LEVELS))


def _closed_locally() -> Any:
    """SQL: the lead unit at closure — the unit the case was last dispatched to as handler,
    else its own unit — is territorial at community level or below, and the case was not
    escalated (上报) above that level."""
    lead = sa.orm.aliased(OrgUnit, name="lead_unit")
    lead_local = (
        sa.select(sa.case((_local(lead), 1), else_=0))
        .select_from(CaseParticipant).join(lead, CaseParticipant.org_id == lead.id)
        .where(CaseParticipant.case_id == Case.id, CaseParticipant.role == "handler")
        .order_by(CaseParticipant.added_at.desc(), CaseParticipant.id.desc()).limit(1)
        .correlate(Case).scalar_subquery())
    up = sa.orm.aliased(OrgUnit, name="escalated_unit")
    escalated_up = sa.exists().where(up.id == Case.escalated_to_id, sa.not_(_local(up)))
    own_local = sa.case((_local(OrgUnit), 1), else_=0)
    return sa.and_(sa.func.coalesce(lead_local, own_local) == 1, sa.not_(escalated_up))


def _days_before(column: Any, days: int) -> Any:
    """SQL: ``column`` minus ``days`` natural days (``days`` is a checked int)."""
    if db.get_bind().dialect.name == "postgresql":
        return column - sa.literal_column(f"interval '{int(days)} days'")
    return sa.func.datetime(column, sa.literal_column(f"'-{int(days)} days'"))


def _repeats(days: int) -> Any:
    """SQL: another case of the same requester (phone tail), unit, type and category was
    closed within ``days`` before this one was received."""
    prior = sa.orm.aliased(Case, name="prior_case")

    def category(c: Any) -> Any:  # no category matches no category (NULL = NULL would not)
        return sa.func.coalesce(queries.category_of(c), "")

    closed = prior.first_closed_at  # set at every first closure (sla.py; 0014 filled the older rows)
    return sa.and_(Case.phone_tail != "", sa.exists().where(
        prior.phone_tail == Case.phone_tail, prior.phone_tail != "", prior.id != Case.id, prior.org_id == Case.org_id,
        prior.type == Case.type, category(prior) == category(Case),
        prior.state.not_in(VOID_STATES), prior.merged_into_id.is_(None),
        closed < Case.created_at, closed >= _days_before(Case.created_at, days)))


def _reported_by_grid_worker() -> Any:
    """SQL: an incident whose submission was made by someone holding the grid worker role."""
    return sa.and_(Case.type.in_(INCIDENT_TYPES), sa.exists().where(
        Submission.case_id == Case.id, Membership.user_id == Submission.submitted_by_id,
        Membership.role == REPORTER_ROLE))


def _rate(part: int, whole: int, **extra: int) -> dict[str, Any]:
    return {"part": part, "whole": whole, "rate": rate(part, whole), **extra}


def _practice(base: sa.Select, cohort: sa.Select, period: Period, days: int) -> dict[str, dict[str, Any]]:
    """The practice rates (:data:`RATES`), each ``{part, whole, rate}`` plus its parts."""
    dispatched = has_event(dispatch_actions())
    on_spot = sa.and_(has_event(ON_THE_SPOT_ACTIONS), sa.not_(dispatched))
    acknowledged = sa.and_(dispatched, Case.responded_at.is_not(None),
                           sa.not_(has_event(ACKNOWLEDGE_ACTIONS, _flag("step_late"))))
    by_grid = _reported_by_grid_worker()
    closed = Case.closed_at.is_not(None)
    ever_closed = sa.func.coalesce(Case.first_closed_at, Case.closed_at).is_not(None)
    redone = sa.and_(ever_closed, sa.or_(Case.reopen_count > 0, has_event(REDO_ACTIONS)))
    sub = cohort.with_only_columns(*(
        sa.case((flag, 1), else_=0).label(name) for name, flag in [
            ("dispatched", dispatched), ("on_spot", on_spot), ("acknowledged", acknowledged),
            ("by_grid", by_grid), ("self_handled", sa.and_(by_grid, has_event(SELF_HANDLE_ACTIONS))),
            ("closed", closed), ("local", sa.and_(closed, _closed_locally())),
            ("sent_back", sa.and_(dispatched, has_event(SEND_BACK_ACTIONS))),
            ("ever_closed", ever_closed), ("redone", redone), ("repeat", _repeats(days))])).subquery()
    names = ["dispatched", "on_spot", "acknowledged", "by_grid", "self_handled", "closed", "local",
             "sent_back", "ever_closed", "redone", "repeat"]
    n = dict(zip([*names, "received"], _one(sa.select(
        *(sa.func.coalesce(sa.func.sum(sub.c[name]), 0) for name in names), sa.func.count())), strict=True))

    start, end = period.bounds
    ids = base.where(not_void()).with_only_columns(Case.id)
    in_period = sa.and_(CaseEvent.case_id.in_(ids), CaseEvent.at >= start, CaseEvent.at < end)
    agreed, failed = _one(sa.select(
        count_if(CaseEvent.action.in_(MEDIATION_AGREED)), count_if(CaseEvent.action.in_(MEDIATION_FAILED)))
        .where(in_period, CaseEvent.action.in_(MEDIATION_AGREED + MEDIATION_FAILED)))
    reached, solved = _one(sa.select(
        count_if(_flag("reached")), count_if(sa.and_(_flag("reached"), CaseEvent.changes["solved"].as_string() == "solved")))
        .where(in_period, CaseEvent.action.in_(FOLLOW_UP_ACTIONS)))
    return {
        "response": _rate(n["acknowledged"] + n["on_spot"], n["dispatched"] + n["on_spot"],
                          dispatched=n["dispatched"], acknowledged=n["acknowledged"], on_the_spot=n["on_spot"]),
        "self_handling": _rate(n["self_handled"], n["by_grid"]),
        "local_resolution": _rate(n["local"], n["closed"]),
        "send_back": _rate(n["sent_back"], n["dispatched"]),
        "redo": _rate(n["redone"], n["ever_closed"]),
        "repeat": _rate(n["repeat"], n["received"]),
        "mediation": _rate(agreed, agreed + failed, agreed=agreed, failed=failed),
        "resolution": _rate(solved, reached),
    }


def whole_days(seconds: Any) -> Any:
    """SQL: whole natural days in a non-negative number of seconds (rounded down)."""
    days = sa.func.coalesce(seconds, 0) / 86400
    if db.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(days), sa.Integer)
    return sa.cast(days, sa.Integer)  # SQLite's CAST truncates


def _day_pairs(cohort: sa.Select) -> list[tuple[date, date | None, int, int]]:
    """(received day, closed day or None, whole days paused, cases) of the cohort."""
    sub = cohort.with_only_columns(
        local_day(Case.created_at).label("opened"), local_day(Case.closed_at).label("done"),
        whole_days(Case.paused_seconds).label("paused")).subquery()
    query = sa.select(sub.c.opened, sub.c.done, sub.c.paused, sa.func.count()).group_by(
        sub.c.opened, sub.c.done, sub.c.paused)
    return [(_day(a), _day(b) if b is not None else None, int(p or 0), n) for a, b, p, n in _rows(query)]


def _series(base: sa.Select, pairs: list, period: Period) -> dict[str, Any]:
    start, end = period.bounds
    received: dict[date, int] = {}
    for opened, _done, _paused, n in pairs:
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
        label = (labels[form_key].get(value) or code_label(value)) if value else "未分类"
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
    """Working days from receipt to closure (the way limits count: same day = 0), paused
    time excluded, from the distinct (received day, closed day, days paused) groups and one
    pass over the calendar. Only whole days of pause are known in total, not when: the
    receipt day moves on by them (natural days), so a pause never counts as handling."""
    pairs = [(a + timedelta(days=p), b, n) for a, b, p, n in pairs if b is not None]
    if not pairs:
        return {"closed": 0, "mean": None, "median": None, "p90": None}
    calendar = load_calendar(calendar_org)
    first = min(a for a, _b, _n in pairs)
    last = max(max(a, b) for a, b, _n in pairs)
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
    days = repeat_days()
    period = filters.period
    start, end = period.bounds
    base = queries.filtered(queries.cases_in(scope), type_=filters.type, org=filters.org,
                            category=filters.category)
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
        "category": filters.category,
        "basis": basis(days),
    }
    result.update(_totals(groups))
    result.update(_on_time(base, period, now))
    rates = _practice(base, cohort, period, days)
    for key, (label, part_label, whole_label) in RATES.items():
        rates[key].update(label=label, part_label=part_label, whole_label=whole_label)
    result["rates"] = rates
    result["responded"], result["response_rate"] = rates["response"]["part"], rates["response"]["rate"]
    result["handling_days"] = _handling_days(pairs, root.path if root is not None else None)
    result["overdue"] = {"count": sum(overdue.values()), "items": _overdue_items(base, now)}
    result["categories"] = _categories(groups)
    result["series"] = _series(base, pairs, period)
    result["units"] = _units(units, root, groups, overdue)
    result["generated_at"] = now.isoformat()
    return result


EXPORT_HEADERS = ["指标", "数值", "分子", "分母", "口径"]


def export_rows(figures: dict[str, Any]) -> list[list[Any]]:
    """The figures as rows of the metrics export: each with its parts and its basis."""
    b = figures["basis"]
    s, h = figures["satisfaction"], figures["handling_days"]
    rows: list[list[Any]] = [
        ["受理量", figures["received"], None, None, b["cohort"]],
        ["办结量", figures["closed"], None, None, b["cohort"]],
        ["办结率", figures["completion_rate"], figures["closed"], figures["received"], b["cohort"]],
        ["按期办结率", figures["on_time_rate"], figures["closed_on_time"], figures["due"], b["due"]],
        ["满意率", s["rate"], s["satisfied"] + s["basically_satisfied"], s["rated"], b["cohort"]],
        ["参评率", s["participation_rate"], s["rated"], s["rated"] + s["unrated"], b["cohort"]],
        ["平均办理时长（工作日）", h["mean"], None, h["closed"], b["cohort"]],
        ["办理时长中位数（工作日）", h["median"], None, h["closed"], b["cohort"]],
        ["办理时长 P90（工作日）", h["p90"], None, h["closed"], b["cohort"]],
        ["当前超期", figures["overdue"]["count"], None, None, b["snapshot"]],
    ]
    for key, r in figures["rates"].items():
        rows.append([r["label"], r["rate"], r["part"], r["whole"], b[key]])
    return rows


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
           filters.org.code if filters.org else None, filters.type, filters.category)
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


def type_choices() -> list[tuple[str, str]]:
    """(key, title) of every case type cases can have (shipped and admin-made), for the filters."""
    return [(t.key, t.title) for t in categories.filter_types()]
