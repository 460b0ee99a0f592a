"""``/track``: a resident enters the case number and code from the receipt."""

from __future__ import annotations

from flask import render_template, request

from fengqiao.access import public
from fengqiao.cases.tracking import find_for_resident, public_view
from fengqiao.errors import APIError
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
    return render_template("track.html", view=view, error=error, number=number, code=code), (
        404 if error else 200)
