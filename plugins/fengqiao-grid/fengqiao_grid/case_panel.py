"""「地址与住户」 on the core's case page (``ctx.add_case_panel``), and the address's cases page.

For a case linked to a standard address (``case_links``), a viewer holding ``grid.view`` over
that address's grid sees: the address (a link to its page), the address's other open cases
they may open themselves (the core's scoped list, ``case_summaries(numbers=…)``: a case they
could not open is never named), and the room's history — moves in and out with dates, names
masked, and visits (date, purpose, worker). Anyone else sees no panel at all. Special-group
data is never read here: no special records, no care tags, no visit findings, and no
特殊群体服务 visits (their purpose alone says who is in such a group).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.cases import CaseSummary, case_data, case_summaries
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import display_names, org_in_scope, org_scope_clause, scope_for
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import current_user, render, requires
from flask import request

from fengqiao_grid.access import VIEW, address_in_scope
from fengqiao_grid.case_links import address_in_data, linked_address
from fengqiao_grid.models import KINDS, RELATIONS, GridAddress, GridPerson, GridResidence
from fengqiao_grid.models_cases import GridCaseAddress
from fengqiao_grid.models_visits import PURPOSES, GridVisit
from fengqiao_grid.pages import pages

OTHER_CASES = 10  # on the panel; 「更多」 leads to the address's cases page
HISTORY = 12  # entries of the room's history on the panel; the address page has the rest
PAGE = 30
WITHHELD_PURPOSES = ("special_care",)


@dataclass(frozen=True)
class Entry:
    day: date
    kind: str  # "in" | "out" | "visit"
    text: str
    who: str  # a masked resident's name (moves) or the worker's display name (visits)


def _cases_at(address: GridAddress, *, besides: str | None = None):
    """A select of the case numbers linked to ``address`` (for ``case_summaries(numbers=…)``)."""
    stmt = sa.select(GridCaseAddress.case_number).where(GridCaseAddress.address_id == address.id)
    return stmt.where(GridCaseAddress.case_number != besides) if besides else stmt


def _history(address: GridAddress) -> tuple[list[Entry], bool]:
    """The room's latest moves and visits, newest first, at most ``HISTORY``; and whether
    there is more (the address page shows it all)."""
    stays = db.execute(
        sa.select(GridResidence, GridPerson.name).join(GridPerson, GridPerson.id == GridResidence.person_id)
        .where(GridResidence.address_id == address.id)
        .order_by(sa.func.coalesce(GridResidence.moved_out_on, GridResidence.moved_in_on).desc(),
                  GridResidence.id.desc()).limit(HISTORY + 1)).all()
    visits = db.scalars(
        sa.select(GridVisit).where(GridVisit.address_id == address.id, GridVisit.purpose.not_in(WITHHELD_PURPOSES),
                                   org_scope_clause(GridVisit.grid_code, VIEW))
        .order_by(GridVisit.visited_on.desc(), GridVisit.id.desc()).limit(HISTORY + 1)).all()
    workers = display_names(v.worker for v in visits)
    entries = []
    for stay, name in stays:
        who, relation = mask_name(name), RELATIONS.get(stay.relation, "")
        entries.append(Entry(stay.moved_in_on, "in", f"迁入（{relation}）", who))
        if stay.moved_out_on is not None:
            entries.append(Entry(stay.moved_out_on, "out", f"迁出（{relation}）", who))
    entries += [Entry(v.visited_on, "visit", f"走访：{PURPOSES[v.purpose]}", workers.get(v.worker, v.worker))
                for v in visits]
    entries.sort(key=lambda e: e.day, reverse=True)
    more = len(stays) > HISTORY or len(visits) > HISTORY or len(entries) > HISTORY
    return entries[:HISTORY], more


def panel(case: CaseSummary) -> str | None:
    """The panel's HTML, or None: no standard address for the case, or not the viewer's to see."""
    address = linked_address(case.number) or address_in_data(case_data(case.number))
    if address is None or not org_in_scope(address.grid_code, VIEW):
        return None
    others = case_summaries(scope_for(current_user, "cases.view"), open_only=True,
                            numbers=_cases_at(address, besides=case.number), limit=OTHER_CASES, cursor="")
    history, more_history = _history(address) if address.kind == "room" else ([], False)
    return render("grid/case_panel.html", address=address, kinds=KINDS, others=others.items,
                  more_cases=others.next_cursor is not None, history=history, more_history=more_history)


@pages.get("/addresses/<int:address_id>/cases")
@requires(VIEW)
def address_cases(address_id: int):
    """The cases at an address that the caller may open: open ones, or all with ``?all=1``."""
    found = address_in_scope(address_id, VIEW)
    everything = request.args.get("all") == "1"
    page = case_summaries(scope_for(current_user, "cases.view"), open_only=not everything,
                          numbers=_cases_at(found), limit=PAGE)
    return render("grid/address_cases.html", address=found, page=page, everything=everything)
