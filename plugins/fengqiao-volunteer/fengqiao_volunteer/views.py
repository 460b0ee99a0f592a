"""The plugin's pages (mounted at ``/p/volunteer/``): importing the page modules registers
their routes on the one blueprint."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.web import current_user

from fengqiao_volunteer import exports, public_pages, staff_pages  # noqa: F401  (routes)
from fengqiao_volunteer.models import Activity, HoursEntry, Volunteer
from fengqiao_volunteer.web import VIEW, pages, scope

__all__ = ["pages", "widget_figures"]


def widget_figures() -> dict:
    """Dashboard card: volunteers, activities and confirmed hours in the user's scope."""
    clause = scope(VIEW).clause
    return {
        "volunteers": db.scalar(sa.select(sa.func.count()).select_from(Volunteer).where(clause(Volunteer.org_path))) or 0,
        "activities": db.scalar(sa.select(sa.func.count()).select_from(Activity).where(clause(Activity.org_path))) or 0,
        "hours": float(db.scalar(sa.select(sa.func.coalesce(sa.func.sum(HoursEntry.hours), 0))
                                 .join(Volunteer, Volunteer.id == HoursEntry.volunteer_id)
                                 .where(clause(Volunteer.org_path))) or 0),
        "user": current_user,
    }
