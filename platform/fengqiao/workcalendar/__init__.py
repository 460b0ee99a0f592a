"""The working-day calendar (docs/domain.md, "Working-day calendar"): working days, office
hours, deadlines, per jurisdiction.

One job per module:

- :mod:`~fengqiao.workcalendar.rules` — the rules as pure computation on an immutable
  :class:`WorkCalendar` snapshot (no database);
- :mod:`~fengqiao.workcalendar.snapshots` — loading a jurisdiction's snapshot, the
  per-process ``calendar`` cache (:mod:`fengqiao.caches`), and announcing changes;
- :mod:`~fengqiao.workcalendar.changes` — single days added or removed, years marked
  complete, each leaving a ``calendar_changes`` row;
- :mod:`~fengqiao.workcalendar.arrangement` — importing a year's arrangement file;
- :mod:`~fengqiao.workcalendar.seeding` — the national rows from ``chinese_calendar``;
- :mod:`~fengqiao.workcalendar.overview` — what has been entered (admin page, CLI).

The everyday questions (is this a working day, when is the deadline) are importable from the
package itself; the rest from its module. Nothing here commits: the request, command or job
commits, then calls :func:`announce_calendar_changed`, which drops cached snapshots and sends
:data:`fengqiao.signals.calendar_changed`.
"""

from fengqiao.workcalendar.rules import Deadline, WorkCalendar, to_local, today_local
from fengqiao.workcalendar.snapshots import (
    OrgCodes,
    add_working_days,
    add_working_hours,
    announce_calendar_changed,
    is_working_day,
    jurisdiction_of,
    load_calendar,
    working_days_between,
)

__all__ = [
    "Deadline", "OrgCodes", "WorkCalendar", "add_working_days", "add_working_hours",
    "announce_calendar_changed", "is_working_day", "jurisdiction_of", "load_calendar",
    "to_local", "today_local", "working_days_between",
]
