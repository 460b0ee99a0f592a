"""Pages under ``/p/agenda/``: the community's list of proposals, one proposal, its decision.

Every form posts its ``csrf_token``; a decision answers with a redirect (303) and a flash
message, a refusal with the same page and the reason. Another unit's item is the uniform 404.
"""

from __future__ import annotations

from fengqiao.sdk.errors import DomainError
from fengqiao.sdk.orgs import display_names, org_unit
from fengqiao.sdk.privacy import audit_history, mask_mobile, mask_name
from fengqiao.sdk.web import current_user, flash_problems, paginate, render, requires
from flask import Blueprint, flash, redirect, request, url_for

from fengqiao_agenda import items
from fengqiao_agenda.models import STATUSES

pages = Blueprint("agenda", __name__)


@pages.app_template_filter("agenda_unit")
def unit_name(code: str) -> str:
    unit = org_unit(code)
    return unit.name if unit else code


@pages.get("/")
@requires(items.MANAGE)
def index():
    status = request.args.get("status") or None
    page = paginate(items.items_in(status=status), items.AgendaItem.id, limit=30)
    return render("agenda/index.html", page=page, status=status, statuses=STATUSES, mask_name=mask_name)


@pages.get("/items/<int:item_id>")
@requires(items.MANAGE)
def item(item_id: int):
    found = items.item_in_scope(item_id)
    history = audit_history(f"agenda:{found.id}")
    return render("agenda/item.html", item=found, statuses=STATUSES, history=history,
                  names=display_names(h.actor for h in history), mask_name=mask_name, mask_mobile=mask_mobile)


@pages.post("/items/<int:item_id>/decision")
@requires(items.MANAGE)
def decision(item_id: int):
    found = items.item_in_scope(item_id)  # first: another unit's item is a 404, not a message
    try:
        items.decide(found, request.form.get("decision", ""), reply=request.form.get("reply", ""),
                     meeting_on=request.form.get("meeting_on", ""), actor=current_user.username)
    except DomainError as err:
        flash_problems(err)
    else:
        flash("已列入议程" if found.status == "scheduled" else "已答复不予采纳", "success")
    return redirect(url_for(".item", item_id=item_id), 303)
