"""Opening cases: a case, its submission and its first history row, written together.

Cases are opened by form submissions (:mod:`fengqiao.forms.submit`) and by the spreadsheet
importer (:mod:`fengqiao.cases.importer`); both write through here, so a case never exists
without its submission and its ``submit`` event, and its number comes from the same day's
gap-free serial (``case_counters``) in the same transaction.

- :func:`open_case` — one case. On PostgreSQL a single statement takes the serial, inserts
  the three rows and returns the case's id and number and the submission's id: one round
  trip. SQLite has no data-modifying CTEs; there (in process, no round trips) four short
  statements do the same.
- :func:`open_cases` — many (the importer): the serials and ids are reserved once, then the
  rows go in batches of ``executemany`` INSERTs.

Nothing here commits: the request, command or job that opens the case does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql

from fengqiao.cases.numbering import (
    case_number,
    local_day,
    new_tracking_code,
    reserve_serials,
    take_case_ids,
)
from fengqiao.models import Case, CaseCounter, CaseEvent, Submission

CASES, SUBMISSIONS, EVENTS, COUNTERS = (Case.__table__, Submission.__table__, CaseEvent.__table__,
                                        CaseCounter.__table__)

# The columns a new case, its submission and its event are written with (every other column
# keeps its default). ``number`` and the ``case_id`` links are filled in here.
CASE_COLUMNS = (
    "tracking_code", "type", "title", "phone_tail", "state", "org_id", "form_key", "form_version", "data",
    "workflow_version", "priority", "version", "created_at",
    "deadline", "deadline_provisional", "sla_status", "sla_start", "sla_limit", "sla_credit", "due_at",
)
CASE_COLUMNS_SET = frozenset(CASE_COLUMNS)
SUBMISSION_COLUMNS = ("form_version_id", "data", "channel", "submitted_by_id", "created_at",
                      "idempotency_key", "idempotency_scope", "idempotency_hash")
EVENT_COLUMNS = ("at", "actor_id", "action", "from_state", "to_state", "comment", "changes", "internal")
BATCH = 5_000  # rows per executemany when opening many cases


@dataclass(frozen=True)
class NewCase:
    """What a new case is opened with: its number's prefix, its columns (``CASE_COLUMNS``
    but the tracking code, made here), its submission's and its ``submit`` event's."""

    prefix: str
    case: dict
    submission: dict
    event: dict


@dataclass(frozen=True)
class OpenedCase:
    case_id: int
    number: str
    tracking_code: str
    submission_id: int


def open_case(session: orm.Session, new: NewCase) -> OpenedCase:
    """Open one case in the session's transaction (not committed)."""
    if unknown := new.case.keys() - CASE_COLUMNS_SET:
        raise ValueError(f"open_case: columns {sorted(unknown)} are not written; add them to CASE_COLUMNS")
    code = new_tracking_code()
    day = local_day(new.case["created_at"])
    values = {"prefix": new.prefix, "day": day,
              **_prefixed(CASES, "case_", CASE_COLUMNS, {**new.case, "tracking_code": code}),
              **_prefixed(SUBMISSIONS, "submission_", SUBMISSION_COLUMNS, new.submission),
              **_prefixed(EVENTS, "event_", EVENT_COLUMNS, new.event)}
    if session.get_bind().dialect.name == "postgresql":
        case_id, number, submission_id = session.execute(_IN_ONE_STATEMENT, values).one()
        return OpenedCase(case_id, number, code, submission_id)
    number = case_number(new.prefix, day, reserve_serials(session, new.prefix, day))
    case_id = session.execute(_CASE, {**values, "number": number}).scalar_one()
    submission_id = session.execute(_SUBMISSION, {**values, "case_id": case_id}).scalar_one()
    session.execute(_EVENT, {**values, "case_id": case_id})
    return OpenedCase(case_id, number, code, submission_id)


def open_cases(conn: sa.Connection, prefix: str, now: datetime, cases: Sequence[NewCase]) -> list[str]:
    """Open many cases created at ``now`` in ``conn``'s transaction; their numbers, in order."""
    day = local_day(now)
    serial = reserve_serials(conn, prefix, day, len(cases))  # first: on SQLite this takes the write lock
    ids = take_case_ids(conn, len(cases))
    numbers = [case_number(prefix, day, serial + i) for i in range(len(cases))]
    case_rows, submission_rows, event_rows = [], [], []
    for case_id, number, new in zip(ids, numbers, cases, strict=True):
        case_rows.append({**new.case, "id": case_id, "number": number, "tracking_code": new_tracking_code()})
        submission_rows.append({**new.submission, "case_id": case_id})
        event_rows.append({**new.event, "case_id": case_id})
    for first in range(0, len(cases), BATCH):
        conn.execute(CASES.insert(), case_rows[first:first + BATCH])
        conn.execute(SUBMISSIONS.insert(), submission_rows[first:first + BATCH])
        conn.execute(EVENTS.insert(), event_rows[first:first + BATCH])
    return numbers


def _scalar_defaults(table: sa.Table) -> dict[str, object]:
    return {c.name: c.default.arg for c in table.c if c.default is not None and c.default.is_scalar}


_DEFAULTS = {table.name: _scalar_defaults(table) for table in (CASES, SUBMISSIONS, EVENTS)}


def _prefixed(table: sa.Table, prefix: str, columns: Sequence[str], given: dict) -> dict:
    """The statement's parameters for ``table``: a column not given takes its default, as in
    a plain INSERT (every column is a parameter of the one statement)."""
    defaults = _DEFAULTS[table.name]
    return {prefix + name: given[name] if name in given else defaults.get(name) for name in columns}


def _params(table: sa.Table, prefix: str, columns: Sequence[str]) -> list[sa.BindParameter]:
    """One typed parameter per column (the column's own type: JSON, UTC datetimes…)."""
    return [sa.bindparam(prefix + name, type_=table.c[name].type) for name in columns]


def _rows_from(table: sa.Table, source: sa.CTE, link: list, prefix: str, columns: Sequence[str]) -> sa.Insert:
    """``INSERT INTO table (…) SELECT …, parameters, defaults FROM source``: an INSERT from a
    SELECT gets no Python-side defaults, so the other columns' scalar defaults are literals."""
    written = {"id", *(c.key for c in link), *columns}
    defaults = {c.name: _inline(c.default.arg, c.type) for c in table.c
                if c.name not in written and c.default is not None and c.default.is_scalar}
    names = [*(c.key for c in link), *columns, *defaults]
    values = sa.select(*link, *_params(table, prefix, columns), *defaults.values()).select_from(source)
    return table.insert().from_select(names, values, include_defaults=False)


def _inline(value, type_: sa.types.TypeEngine) -> sa.ColumnElement:
    """A constant written into the SQL text: psycopg caches its parsing of a statement only
    while it has at most 50 parameters."""
    sql = sa.literal(value, type_).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return sa.literal_column(str(sql), type_)


def _in_one_statement() -> sa.Select:
    """PostgreSQL: ``WITH serial AS (INSERT … ON CONFLICT … RETURNING last), new_case AS
    (INSERT INTO cases SELECT … FROM serial RETURNING id, number), new_submission AS (…),
    history AS (…) SELECT new_case.id, new_case.number, new_submission.id``."""
    one, dash = _inline(1, sa.Integer()), _inline("-", sa.String())
    upsert = postgresql.insert(COUNTERS).values(prefix=sa.bindparam("prefix"), day=sa.bindparam("day"), last=one)
    serial = upsert.on_conflict_do_update(
        index_elements=[COUNTERS.c.prefix, COUNTERS.c.day], set_={"last": COUNTERS.c.last + one},
    ).returning(COUNTERS.c.last).cte("serial")
    digits = sa.cast(serial.c.last, sa.Text)
    width = sa.func.greatest(_inline(6, sa.Integer()), sa.func.length(digits))
    number = sa.func.concat(sa.bindparam("prefix", type_=sa.String), dash, sa.bindparam("day", type_=sa.String), dash,
                            sa.func.lpad(digits, width, _inline("0", sa.String())))
    new_case = _rows_from(CASES, serial, [number.label("number")], "case_", CASE_COLUMNS) \
        .returning(CASES.c.id, CASES.c.number).cte("new_case")
    new_submission = _rows_from(SUBMISSIONS, new_case, [new_case.c.id.label("case_id")], "submission_",
                                SUBMISSION_COLUMNS).returning(SUBMISSIONS.c.id).cte("new_submission")
    history = _rows_from(EVENTS, new_case, [new_case.c.id.label("case_id")], "event_", EVENT_COLUMNS) \
        .returning(EVENTS.c.id).cte("history")
    both = new_case.join(new_submission, sa.true())  # one row each
    return sa.select(new_case.c.id, new_case.c.number, new_submission.c.id).select_from(both).add_cte(history)


# Built once: SQLAlchemy then finds each compiled statement by the object's memoised key.
_IN_ONE_STATEMENT = _in_one_statement()
_CASE = CASES.insert().values(
    number=sa.bindparam("number"), **dict(zip(CASE_COLUMNS, _params(CASES, "case_", CASE_COLUMNS), strict=True)),
).returning(CASES.c.id)
_SUBMISSION = SUBMISSIONS.insert().values(
    case_id=sa.bindparam("case_id"),
    **dict(zip(SUBMISSION_COLUMNS, _params(SUBMISSIONS, "submission_", SUBMISSION_COLUMNS), strict=True)),
).returning(SUBMISSIONS.c.id)
_EVENT = EVENTS.insert().values(
    case_id=sa.bindparam("case_id"), **dict(zip(EVENT_COLUMNS, _params(EVENTS, "event_", EVENT_COLUMNS), strict=True)),
)
