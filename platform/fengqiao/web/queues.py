"""The staff queue page (/queues): views as tabs, filters and search, sorting, numbered
pages, saved filters, bulk actions.

The page only reads arguments and renders: which cases a view holds is decided in
``cases.queries`` (the same functions as the API list and the Excel export), their order and
pages in ``cases.queue_order``, the chips in ``cases.saved_filters``, and bulk actions run
through ``cases.bulk``, case by case through the workflow engine.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import bulk, categories, engine, queries, queue_order, saved_filters
from fengqiao.cases.case_types import case_type
from fengqiao.db import utcnow
from fengqiao.exceptions import DomainError, Invalid
from fengqiao.pagination import Page
from fengqiao.params import int_arg, page_limit
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@web_bp.get("/queues")
@requires("cases.view")
def queue():
    user = current_user._get_current_object()
    problems, filters, limit = [], queries.Filters(), PAGE_SIZE
    page, counts, pager = Page([], None), {}, None
    try:
        filters = categories.parse_queue_filters(request.args, user)
        limit = page_limit(PAGE_SIZE, MAX_PAGE_SIZE)
        number, cursor = _page_number(), request.args.get("cursor")
        pager = queue_order.pager(queries.queue_total(user, filters), queries.TOTAL_CAP, limit, number, bool(cursor))
        if not pager.message:  # a number past the last page: an empty page saying so
            page = queries.queue_page(user, filters, cursor, limit, number)
        counts = queries.view_counts(user, filters)
    except DomainError as err:  # a bad filter or a garbled cursor: say so above the filter bar
        problems = err.problems
    per_case, offers = bulk.offered_actions(page.items, user)
    may_assign = any(bulk.ASSIGN in names for names in per_case.values())  # only if the engine has it
    args = {**filters.args(), **({"limit": str(limit)} if limit != PAGE_SIZE else {})}
    return render_template(
        "cases/queue.html", page=page, filters=filters, view=filters.view, counts=counts, args=args,
        views=queries.VIEWS, count_cap=queries.COUNT_CAP, problems=problems, per_case=per_case, offers=offers,
        offer_fields={k: title for o in offers for k, title in o.fields.items()},
        assignees=bulk.assignable_users(user) if may_assign else [],
        targets=engine.dispatch_targets(user) if any("unit" in o.fields for o in offers) else [],
        options=queries.filter_options(user, categories.filter_types()), categories=categories.choices(),
        flag=queries.deadline_flag, now=utcnow(), case_type=case_type,
        may_act=user.can("cases.act"), pager=None if problems else pager,
        sort=queue_order.effective_sort(filters.sort, filters.view), sorts=queue_order.SORTS,
        saved=saved_filters.bar(user, request.args),
    ), 422 if problems else 200


def _page_number() -> int | None:
    """``page=N`` (a numbered page; none with a cursor, which is where "下一页" went on)."""
    number = int_arg("page", None, minimum=1, message="页码应为正整数", code="range")
    if number is not None and request.args.get("cursor"):
        raise Invalid([("/page", "页码和翻页参数不能同时使用，请从第一页重新开始", "conflict")])
    return number


@web_bp.post("/queues/bulk")
@requires("cases.act")
def queue_bulk():
    form = request.form
    op = form.get("op", "")
    action = form.get("transition", "") if op == "transition" else op
    if op == "assign":
        fields = {"assignee": form.get("assignee", "")}
    else:
        fields = {k[len("field_"):]: v for k, v in form.items() if k.startswith("field_") and v.strip()}
    back = form.get("next", "")
    if not back.startswith("/queues"):  # only ever back to the queue, never off-site
        back = url_for("web.queue")
    problems, results = [], []
    if not action:
        problems = [("/action", "请选择要批量执行的操作", "required")]
    elif op == "assign" and not fields["assignee"]:
        problems = [("/fields/assignee", "请选择指派给谁", "required")]
    else:
        try:
            results = bulk.bulk_perform(bulk.parse_selection(form.getlist("cases")), action,
                                        current_user._get_current_object(),
                                        {"comment": form.get("comment", ""), "fields": fields})
        except DomainError as err:
            problems = err.problems
    return render_template(
        "cases/bulk_result.html", results=results, problems=problems, back=back,
        summary=bulk.summary(results), action=action,
    ), 422 if problems else 200
