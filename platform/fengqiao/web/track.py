"""``/track``: a resident enters the case number and code from the receipt."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from fengqiao.access import public
from fengqiao.cases.tracking import RATINGS, find_for_resident, public_view, rate
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.ratelimit import enforce
from fengqiao.web.blueprint import web_bp


@web_bp.get("/track")
@public
def track():
    number, code = request.args.get("number", ""), request.args.get("code", "")
    view, error = None, None
    if number or code:
        enforce("track")
        try:
            view = public_view(find_for_resident(number, code))
        except APIError as err:
            error = err.problems[0][1]
    return render_template("track.html", view=view, error=error, number=number, code=code,
                           ratings=RATINGS), 404 if error else 200


@web_bp.post("/track/rate")
@public
def track_rate():
    enforce("track")
    number, code = request.form.get("number", ""), request.form.get("code", "")
    case = find_for_resident(number, code)
    try:
        rate(case, request.form.get("rating", ""))
    except (ValidationFailed, APIError) as err:
        flash(err.problems[0][1], "error")
    else:
        flash("感谢您的评价！", "success")
    return redirect(url_for("web.track", number=case.number, code=code))
