"""The message centre (站内信) page: the signed-in user's own notifications.

Opening a row marks it read and follows its link; marking read is a CSRF-protected POST.
Another user's notification id is 404 (the service scopes every query by user).
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import access_of, login_required
from fengqiao.notifications import service
from fengqiao.pagination import capped_label
from fengqiao.params import page_limit
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 30


def bell() -> str | None:
    """The unread count for the nav's bell (「99+」 past the cap), or None where no bell
    belongs: anonymous visitors (no query at all) and public/resident pages. One capped
    COUNT per request, however often the template asks."""
    if not current_user.is_authenticated or request.endpoint is None:
        return None
    access = access_of(current_app, request.endpoint)
    if access is None or (access.kind == "public" and not g.get("staff_page")):  # `/` is both (views.py)
        return None
    if "inbox_bell" not in g:
        count = service.unread_count(current_user._get_current_object())
        g.inbox_bell = capped_label(count, service.BELL_CAP)
    return g.inbox_bell


@web_bp.app_context_processor
def _bell_context():
    return {"inbox_bell": bell}


@web_bp.get("/inbox")
@login_required
def inbox():
    user = current_user._get_current_object()
    filters = service.parse_filter(request.args.get("unread"), request.args.get("kind"))
    result = service.page(user, filters, request.args.get("cursor"), page_limit(PAGE_SIZE, 100))
    args = {k: v for k, v in (("unread", "1" if filters.unread else None), ("kind", filters.kind)) if v}
    return render_template("inbox/list.html", page=result, filters=filters, args=args,
                           kinds=service.kind_labels(), kind_label=service.kind_label,
                           other_label=service.OTHER_KIND)


@web_bp.get("/inbox/<int:notification_id>/open")
@login_required
def inbox_open(notification_id: int):
    return redirect(service.open_(current_user._get_current_object(), notification_id))


@web_bp.post("/inbox/<int:notification_id>/read")
@login_required
def inbox_read(notification_id: int):
    user = current_user._get_current_object()
    service.own(user, notification_id)  # another user's id: 404
    service.mark_read(user, [notification_id])
    return redirect(_back())


@web_bp.post("/inbox/read-all")
@login_required
def inbox_read_all():
    count = service.mark_read(current_user._get_current_object(), everything=True)
    flash(f"已将 {count} 条消息标为已读" if count else "没有未读消息", "success")
    return redirect(_back())


def _back() -> str:
    """Back to the list with its filters (only this page's own query values)."""
    args = {k: request.form.get(k) for k in ("unread", "kind") if request.form.get(k)}
    return url_for("web.inbox", **args)
