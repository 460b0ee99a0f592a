"""保存的筛选 on the queue page: save the filter on screen under a name, delete one.

Applying a saved filter is a plain link to ``/queues?<query>`` (the chip), so it is checked
like any other queue link. Both writes are the caller's own rows only (``cases.saved_filters``
scopes every query by user: another user's filter is 404) and CSRF-protected like every
cookie write (the global check: the forms carry ``csrf_token()``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import saved_filters
from fengqiao.exceptions import Invalid
from fengqiao.web.blueprint import web_bp


def _queue_url(query: str) -> str:
    return url_for("web.queue") + (f"?{query}" if query else "")


@web_bp.post("/queues/filters")
@requires("cases.view")
def queue_filter_save():
    user = current_user._get_current_object()
    form = request.form
    try:
        row = saved_filters.create(user, form.get("name"), form)
    except Invalid as err:  # the form again, each problem in Chinese (the transaction rolls back)
        return render_template(
            "cases/saved_filter_form.html", problems=err.problems, name=form.get("name", ""),
            save_args={k: form.get(k, "").strip() for k in saved_filters.FILTER_KEYS if form.get(k, "").strip()},
            back=_queue_url(saved_filters.query_of(form)), max_name=saved_filters.MAX_NAME,
            max_filters=saved_filters.MAX_FILTERS,
        ), 422
    flash(f"已保存筛选「{row.name}」", "success")
    return redirect(_queue_url(row.query))


@web_bp.post("/queues/filters/<int:filter_id>/delete")
@requires("cases.view")
def queue_filter_delete(filter_id: int):
    row = saved_filters.delete(current_user._get_current_object(), filter_id)
    flash(f"已删除筛选「{row.name}」", "success")
    back = request.form.get("next", "")
    if not back.startswith("/queues"):  # only ever back to the queue, never off-site
        back = url_for("web.queue")
    return redirect(back)
