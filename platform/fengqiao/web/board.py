"""回音壁 pages: the public board, and the staff form that publishes a case on it."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import public, requires
from fengqiao.cases import board as board_service
from fengqiao.cases import queries
from fengqiao.errors import http_status
from fengqiao.exceptions import DomainError
from fengqiao.orgs.scope import scope_for
from fengqiao.web.blueprint import web_bp


@web_bp.app_context_processor
def _board_helpers():
    """``board_summary(case)`` for the panel on the case page (queried only when rendered)."""
    return {"board_summary": board_service.board_summary, "board_publishable": board_service.publishable}


@web_bp.get("/board")
@public
def board():
    types = current_app.extensions["fengqiao.case_types"].types
    chosen = request.args.get("type") or None
    if chosen not in types:
        chosen = None
    page = board_service.board_items(request.args.get("cursor"), type=chosen)
    return render_template("board.html", page=page, types=types, chosen=chosen)


@web_bp.route("/cases/<number>/board", methods=["GET", "POST"])
@requires("cases.act")
def case_board(number: str):
    case = queries.visible_case(number, scope_for(current_user, "cases.view"))
    if case is None:
        abort(404)
    user = current_user._get_current_object()
    error, posted = None, None
    if request.method == "POST":
        unpublishing = request.form.get("op") == "unpublish"
        try:
            if unpublishing:
                board_service.unpublish(number, user)
            else:
                posted = request.form.get("summary", "")
                board_service.publish(number, user, posted)
        except DomainError as err:  # the typed summary is kept and shown with the message
            error, status = err.problems[0][1], http_status(err)
        else:
            flash("已从回音壁撤下" if unpublishing else "已发布到回音壁", "success")
            return redirect(url_for("web.case_detail", number=number))
        return render_template("cases/board_edit.html", case=case, board_error=error,
                               board_posted=posted), status
    return render_template("cases/board_edit.html", case=case)
