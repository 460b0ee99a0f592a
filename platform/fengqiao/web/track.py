"""``/track``: a resident enters the case number and code from the receipt, rates a closed
case and may ask once to reopen it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from fengqiao.access import public
from fengqiao.cases.tracking import RATINGS, ask_reopen, find_for_resident, public_view, rate
from fengqiao.errors import http_status
from fengqiao.exceptions import DomainError, NotFound
from fengqiao.ratelimit import enforce
from fengqiao.web.blueprint import web_bp


def _page(view=None, error=None, number="", code="", status=200, **extra):
    return render_template("track.html", view=view, error=error, number=number, code=code,
                           ratings=RATINGS, **extra), status


@web_bp.get("/track")
@public
def track():
    number, code = request.args.get("number", ""), request.args.get("code", "")
    view, error = None, None
    if number or code:
        enforce("track")
        try:
            view = public_view(find_for_resident(number, code))
        except NotFound as err:
            error = err.problems[0][1]
    return _page(view, error, number, code, 404 if error else 200)


@web_bp.post("/track/rate")
@public
def track_rate():
    enforce("track")
    number, code = request.form.get("number", ""), request.form.get("code", "")
    case = find_for_resident(number, code)
    try:
        rate(case, request.form.get("rating", ""))
    except DomainError as err:
        flash(err.problems[0][1], "error")
    else:
        flash("感谢您的评价！", "success")
    return redirect(url_for("web.track", number=case.number, code=code))


@web_bp.post("/track/reopen")
@public
def track_reopen():
    enforce("track")
    number, code = request.form.get("number", ""), request.form.get("code", "")
    reason = request.form.get("reason", "")
    case = find_for_resident(number, code)
    try:
        case = ask_reopen(case, reason)
    except DomainError as err:  # the typed reason is shown again with the message
        return _page(public_view(case), None, case.number, code, http_status(err),
                     reopen_error=err.problems[0][1], reason=reason)
    flash(f"已收到您的重办申请，当前状态：{public_view(case)['state_title']}", "success")
    return redirect(url_for("web.track", number=case.number, code=code))
