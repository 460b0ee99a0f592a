"""``sdk.cases.case_summaries(org=, open_only=)`` (API 1.10) narrows in the query: a unit's open
cases are found however many newer cases of other units the caller's scope holds (the grid
plugin's 今天 read the first 100 of the scope and filtered them, missing older ones)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.models import Case, OrgUnit, User
from fengqiao.sdk.cases import case_summaries
from fengqiao.sdk.orgs import scope_for
from fengqiao.testing.plugin import submit_form

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

GRID_A1, GRID_A2 = "339901001001001", "339901001001002"  # two grids of 揽月社区
REPORT = {"summary": "楼道堆放杂物", "category": "市容环境", "description": "三楼楼道堆满纸箱。",
          "location": {"address": "揽月花园 3 幢"}}


def test_a_units_open_cases_past_a_page_of_newer_ones(app, client, demo, bearer):
    numbers = [submit_form(client, "grid-incident", REPORT, headers=bearer("zhangmin"))["case_number"]
               for _ in range(5)]
    oldest, closed, *newer = numbers
    with app.app_context():
        other = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == GRID_A2))
        mine = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == GRID_A1))
        db.execute(sa.update(Case).where(Case.number.in_(newer)).values(org_id=other))  # newer: another grid
        db.execute(sa.update(Case).where(Case.number.in_([oldest, closed])).values(org_id=mine))
        db.execute(sa.update(Case).where(Case.number == closed).values(closed_at=utcnow()))
        db.commit()
        staff = db.scalar(sa.select(User).where(User.username == "shenli"))  # the community's staff
        scope = scope_for(staff, "cases.view")

        first_page = case_summaries(scope, limit=2, cursor="")
        assert oldest not in {c.number for c in first_page.items}  # what filtering one page missed

        found = case_summaries(scope, org=GRID_A1, open_only=True, limit=2, cursor="")
        assert [c.number for c in found.items] == [oldest] and found.next_cursor is None
        assert {c.number for c in case_summaries(scope, org=GRID_A1, limit=5, cursor="").items} == {oldest, closed}
        assert case_summaries(scope, org="000000000000000", limit=5, cursor="").items == []  # unknown unit
