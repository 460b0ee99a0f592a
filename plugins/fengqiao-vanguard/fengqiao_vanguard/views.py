"""Pages, mounted at ``/p/vanguard/``: branch overview, member score page, scoring queue,
notices, honour board, Excel ledger, indicator-set editor. Logic lives in the services."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.files import xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit, org_units
from fengqiao.sdk.privacy import mask_mobile, mask_name
from fengqiao.sdk.web import (
    current_user,
    int_arg,
    paginate,
    parse_int,
    public,
    rate_limited,
    render,
    requires,
)
from fengqiao.sdk.workdays import today_local
from flask import Blueprint, abort, flash, redirect, request, url_for

from fengqiao_vanguard import events as event_service
from fengqiao_vanguard import indicators, notices
from fengqiao_vanguard.api import MANAGE
from fengqiao_vanguard.members import (
    REVIEW,
    can_review,
    create_member,
    is_self,
    members_in,
    own_member,
    review_scope,
    visible_member,
)
from fengqiao_vanguard.models import (
    EVENT_SOURCES,
    EVENT_STATUS,
    KINDS,
    MEMBER_TYPES,
    POSTS,
    IndicatorSet,
    Member,
    Notice,
    ScoreEvent,
)
from fengqiao_vanguard.scoring import member_score

pages = Blueprint("vanguard", __name__)
LABELS = {"kinds": KINDS, "member_types": MEMBER_TYPES, "status": EVENT_STATUS, "sources": EVENT_SOURCES,
          "posts": POSTS}


def _year() -> int:
    return int_arg("year", today_local().year, minimum=2000, maximum=2100, message="年份应为 2000–2100 之间的四位数字")


def _errors(err: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for pointer, message, _ in err.problems:
        found.setdefault(pointer.split("/")[1] if pointer.count("/") >= 1 and pointer else "", message)
    return found


def _flash_error(err: APIError) -> None:
    """A refusal as a flash message; a 404 (missing or out of scope) is the error page instead,
    as for reads, never a redirect that hides it."""
    if err.status == 404:
        raise err
    flash("；".join(m for _, m, _ in err.problems), "error")


def _branches():
    """Units the signed-in reviewer may pick (their subtrees, communities and above)."""
    scope = review_scope()
    return [u for u in org_units() if scope.contains(u.path) and u.level in ("county", "street", "community")]


@pages.get("/")
def index():
    """The branch overview for reviewers; everyone else goes to their own page."""
    scope = review_scope()
    if scope.empty:
        return redirect(url_for(".me"))
    page = paginate(members_in(scope), Member.id, limit=50, descending=False)
    units = {u.code: u.name for u in org_units(active_only=False)}
    return render("vanguard/index.html", members=page.items, units=units, labels=LABELS,
                  page=page, year=today_local().year,
                  branches=_branches(), pending=event_service.pending_count(scope),
                  can_manage=current_user.can(MANAGE), mask_mobile=mask_mobile)


@pages.route("/members/new", methods=["GET", "POST"])
@requires(REVIEW)
def member_new():
    errors, values = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in
                  ("name", "org", "member_type", "id_card", "mobile", "username", "commitments")}
        data = {k: v for k, v in values.items() if v}
        data["posts"] = request.form.getlist("posts")
        for key in ("name", "org", "member_type"):
            data.setdefault(key, "")
        try:
            member = create_member(data, current_user)
        except ValidationFailed as err:
            errors = _errors(err)
        except APIError as err:
            errors = {p.strip("/"): m for p, m, _ in err.problems}
        else:
            flash(f"已登记党员 {member.name}", "success")
            return redirect(url_for(".member", member_id=member.id))
    return render("vanguard/member_new.html", errors=errors, values=values, labels=LABELS,
                  branches=_branches()), (422 if errors else 200)


@pages.get("/me")
def me():
    """The signed-in member's own page (accounts linked to a member record)."""
    member = own_member()
    if member is None:
        return render("vanguard/not_member.html")
    return redirect(url_for(".member", member_id=member.id))


def _member_page(member, errors=None, values=None, status=200):
    year = _year()
    item_set = indicators.set_for_year(member.org_code, year)
    unit = org_unit(member.org_code)
    return render("vanguard/member.html", member=member, unit=unit, year=year,
                  score=member_score(member, year), item_set=item_set,
                  events=event_service.events_of(member.id, year), labels=LABELS,
                  reviewer=can_review(member), own=is_self(member), errors=errors or {}, values=values or {},
                  history_of=event_service.history_of, this_month=today_local().strftime("%Y-%m"),
                  mask_name=mask_name), status


@pages.get("/members/<int:member_id>")
def member(member_id: int):
    try:
        found = visible_member(member_id)
    except APIError:
        abort(404)
    return _member_page(found)


@pages.post("/members/<int:member_id>/events")
def propose(member_id: int):
    try:
        found = visible_member(member_id)
    except APIError:
        abort(404)
    values = {k: request.form.get(k, "").strip() for k in ("indicator", "points", "reason", "period", "evidence")}
    data = {"indicator": parse_int(values["indicator"], values["indicator"]),
            "reason": values["reason"], "period": values["period"]}
    try:
        data["points"] = float(values["points"]) if values["points"] else None
    except ValueError:
        data["points"] = values["points"]
    if values["evidence"]:
        data["evidence"] = values["evidence"]
    if data["points"] is None:
        return _member_page(found, {"points": "此项为必填项"}, values, 422)
    source = "branch" if can_review(found) else "member"
    try:
        event_service.propose(found, data, actor=current_user.username, source=source)
    except ValidationFailed as err:
        return _member_page(found, _errors(err), values, 422)
    flash("已提交，等待支部审核", "success")
    return redirect(url_for(".member", member_id=found.id, year=data["period"][:4]))


@pages.get("/queue")
@requires(REVIEW)
def queue():
    page = paginate(event_service.pending_in(review_scope()), ScoreEvent.id, limit=50, descending=False)
    units = {u.code: u.name for u in org_units(active_only=False)}
    return render("vanguard/queue.html", events=page.items, page=page,
                  labels=LABELS, units=units)


@pages.post("/events/<int:event_id>/review")
@requires(REVIEW)
def review(event_id: int):
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    try:
        event = event_service.review(event_id, decision, current_user, request.form.get("comment", ""))
    except APIError as err:
        _flash_error(err)
    else:
        flash(f"已{'通过' if decision == 'approve' else '退回'}：{event.reason[:30]}", "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/p/vanguard/")
                    else url_for(".queue"))


# -- notices, ratings, honour board, ledger --------------------------------------------------------

@pages.get("/notices")
@requires(REVIEW)
def notice_list():
    return render("vanguard/notices.html", notices=notices.notices_in(review_scope()), branches=_branches(),
                  year=today_local().year, quarter=(today_local().month - 1) // 3 + 1, units=_unit_names(),
                  is_open=notices.notice_open)


def _unit_names() -> dict[str, str]:
    return {u.code: u.name for u in org_units(active_only=False)}


def _int(name: str) -> int | str:
    raw = request.form.get(name, "")
    return parse_int(raw, raw)


@pages.post("/notices")
@requires(REVIEW)
def notice_publish():
    try:
        notice = notices.publish_notice({"org": request.form.get("org", ""), "year": _int("year"),
                                         "quarter": _int("quarter")}, current_user)
    except APIError as err:
        _flash_error(err)
        return redirect(url_for(".notice_list"))
    flash("公示已发布", "success")
    return redirect(url_for(".notice", notice_id=notice.id))


@pages.post("/ratings")
@requires(REVIEW)
def rating():
    try:
        count = notices.rate_year({"org": request.form.get("org", ""), "year": _int("year")}, current_user)
    except APIError as err:
        _flash_error(err)
    else:
        flash(f"已完成年度评星，共 {count} 名党员", "success")
    return redirect(url_for(".notice_list"))


def _notice_or_404(notice_id: int) -> Notice:
    notice = db.get(Notice, notice_id)
    if notice is None:
        abort(404)
    return notice


def _notice_page(notice: Notice, errors=None, values=None, status=200):
    staff = getattr(current_user, "is_authenticated", False) and review_scope().contains(notice.org_path)
    unit = org_unit(notice.org_code)
    return render("vanguard/notice.html", notice=notice, unit=unit, open=notices.notice_open(notice),
                  objections=notices.objections_of(notice.id) if staff else [], staff=staff,
                  errors=errors or {}, values=values or {}, mask_mobile=mask_mobile), status


@pages.get("/notices/<int:notice_id>")
@public
def notice(notice_id: int):
    """公示 page: anyone may read it (masked names) and object while the window is open."""
    return _notice_page(_notice_or_404(notice_id))


@pages.post("/notices/<int:notice_id>/objections")
@public
@rate_limited()
def objection(notice_id: int):
    found = _notice_or_404(notice_id)
    values = {"text": request.form.get("text", ""), "contact": request.form.get("contact", "")}
    try:
        notices.raise_objection(found, {"text": values["text"], "contact": values["contact"] or None})
    except ValidationFailed as err:
        return _notice_page(found, _errors(err), values, 422)
    except APIError as err:
        return _notice_page(found, {"": err.problems[0][1]}, values, err.status)
    flash("异议已提交，支部将在核实后答复", "success")
    return redirect(url_for(".notice", notice_id=found.id))


@pages.post("/objections/<int:objection_id>/resolve")
@requires(REVIEW)
def objection_resolve(objection_id: int):
    try:
        found = notices.resolve_objection(objection_id, request.form.get("resolution", ""), current_user)
    except APIError as err:
        _flash_error(err)
        return redirect(request.referrer or url_for(".notice_list"))
    flash("已记录处理结果", "success")
    return redirect(url_for(".notice", notice_id=found.notice_id))


@pages.get("/honour")
@public
def honour():
    """先锋榜 of a community: masked names, branch, stars and total only."""
    communities = org_units(level="community", kind="territorial")  # not a property company
    org = request.args.get("org") or (communities[0].code if communities else "")
    year = _year()
    unit = org_unit(org)
    return render("vanguard/honour.html", communities=communities, unit=unit, year=year,
                  rows=notices.honour_board(org, year) if unit else [])


@pages.get("/ledger.xlsx")
@requires(REVIEW)
def ledger():
    org, year = request.args.get("org", ""), _year()
    try:
        data = notices.ledger_xlsx(org, year)
    except APIError as err:
        _flash_error(err)
        return redirect(url_for(".index"))
    return xlsx_response(f"党员先锋指数台账-{org}-{year}.xlsx", data)


# -- indicator sets ------------------------------------------------------------------------------------

@pages.get("/sets")
@requires(MANAGE)
def sets():
    indicators.ensure_default_set()
    found = list(db.scalars(sa.select(IndicatorSet).order_by(IndicatorSet.org_code, IndicatorSet.version.desc())
                            .limit(200)))
    return render("vanguard/sets.html", sets=found, units=_unit_names(), branches=org_units(),
                  labels=LABELS)


@pages.post("/sets")
@requires(MANAGE)
def set_new():
    try:
        draft = indicators.create_draft(request.form.get("org", ""), current_user.username)
    except APIError as err:
        _flash_error(err)
        return redirect(url_for(".sets"))
    return redirect(url_for(".set_edit", set_id=draft.id))


def _set_or_404(set_id: int) -> IndicatorSet:
    item_set = db.get(IndicatorSet, set_id)
    if item_set is None:
        abort(404)
    return item_set


def _number(raw: str):
    try:
        return float(raw)
    except ValueError:
        return raw


def _set_form() -> dict:
    """The editor's rows back into the service's shape (blank rows are ignored)."""
    rows = []
    codes, names = request.form.getlist("code"), request.form.getlist("name")
    kinds, maxima = request.form.getlist("kind"), request.form.getlist("max_points")
    for code, name, kind, maximum in zip(codes, names, kinds, maxima, strict=False):
        if not (code.strip() or name.strip()):
            continue
        rows.append({"code": code.strip(), "name": name.strip(), "kind": kind,
                     "max_points": _number(maximum.strip() or "0")})
    return {"name": request.form.get("set_name", "").strip(),
            "bands": [_number(b.strip()) for b in request.form.getlist("band")],
            "bonus_cap": _number(request.form.get("bonus_cap", "").strip() or "0"), "indicators": rows}


SET_FIELDS = {"name": "名称", "bands": "星级分数线", "bonus_cap": "加分合计上限", "indicators": "指标",
              "code": "代码", "kind": "类别", "max_points": "上限分值"}


def _set_field_label(pointer: str) -> str:
    """``/indicators/2/max_points`` → 第 3 行指标的上限分值 (the editor's wording)."""
    parts = pointer.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "indicators" and parse_int(parts[1]) is not None:
        field = SET_FIELDS.get(parts[2], "名称") if len(parts) > 2 else ""
        return f"第 {parse_int(parts[1]) + 1} 行指标{'的' + field if field else ''}"
    return SET_FIELDS.get(parts[0], "指标体系")


@pages.route("/sets/<int:set_id>", methods=["GET", "POST"])
@requires(MANAGE)
def set_edit(set_id: int):
    item_set = _set_or_404(set_id)
    errors: dict[str, str] = {}
    posted = None
    if request.method == "POST":
        posted = _set_form()
        try:
            indicators.update_draft(item_set, posted)
        except ValidationFailed as err:
            db.rollback()
            errors = {p: f"{_set_field_label(p)}：{m}" for p, m, _ in err.problems}
        except APIError as err:
            _flash_error(err)
        else:
            flash("草稿已保存", "success")
            return redirect(url_for(".set_edit", set_id=set_id))
    shown = posted if errors else {"name": item_set.name, "bands": item_set.bands, "bonus_cap": item_set.bonus_cap,
                                   "indicators": item_set.indicators}
    return render("vanguard/set_edit.html", item_set=item_set, shown=shown, errors=errors, labels=LABELS,
                  units=_unit_names(), today=today_local().isoformat()), (422 if errors else 200)


@pages.post("/sets/<int:set_id>/publish")
@requires(MANAGE)
def set_publish(set_id: int):
    item_set = _set_or_404(set_id)
    try:
        effective = date.fromisoformat(request.form.get("effective_from", ""))
    except ValueError:
        flash("请填写有效的生效日期（如 2027-01-01）", "error")
        return redirect(url_for(".set_edit", set_id=set_id))
    try:
        indicators.publish(item_set, effective, current_user.username)
    except APIError as err:
        _flash_error(err)
        return redirect(url_for(".set_edit", set_id=set_id))
    flash(f"已发布第 {item_set.version} 版，自 {effective.isoformat()} 起适用", "success")
    return redirect(url_for(".sets"))
