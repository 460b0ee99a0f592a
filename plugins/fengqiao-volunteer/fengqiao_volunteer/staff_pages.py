"""Staff pages: activity calendar, organiser's roster, volunteers, record pages, rankings,
双报到 units, teams and 微心愿. Every list is scoped with ``scope_for`` and paginated; names,
ID numbers and mobiles are masked."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.files import qr_data_uri
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.privacy import mask_id_card, mask_mobile, mask_name
from fengqiao.sdk.web import (
    current_user,
    external_url,
    int_arg,
    paginate,
    parse_int,
    render,
    requires,
)
from fengqiao.sdk.workdays import LOCAL_TZ, today_local
from flask import abort, flash, redirect, request, url_for

from fengqiao_volunteer import activities, certificates, hours, registry, wishes
from fengqiao_volunteer.models import (
    Activity,
    CertificateRecord,
    Dispute,
    Enrollment,
    EnrollmentEvent,
    HoursEntry,
    ReportUnit,
    Team,
    Volunteer,
)
from fengqiao_volunteer.rules import fmt_hours, stars_for
from fengqiao_volunteer.tokens import checkin_token, volunteer_token
from fengqiao_volunteer.web import (
    MANAGE,
    PAGE_SIZE,
    VIEW,
    field_errors,
    form_data,
    pages,
    scope,
)

EVENT_TITLES = {"enrolled": "报名", "waiting": "候补", "promoted": "候补转正", "cancelled": "取消报名",
                "signed_in": "签到", "signed_out": "签退", "backfilled": "补录"}


def _month(raw: str | None) -> date:
    try:
        year, month = (int(x) for x in (raw or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today_local().replace(day=1)


@pages.get("/")
@requires(VIEW)
def index():
    """活动日历: one month of activities in the user's scope, grouped by day."""
    first = _month(request.args.get("month"))
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime(first.year, first.month, 1, tzinfo=LOCAL_TZ)
    end = datetime(following.year, following.month, 1, tzinfo=LOCAL_TZ)
    rows = db.scalars(sa.select(Activity).where(scope(VIEW).clause(Activity.org_path),
                                                Activity.starts_at >= start, Activity.starts_at < end)
                      .order_by(Activity.starts_at, Activity.id).limit(500)).all()
    days: dict[date, list[Activity]] = {}
    for activity in rows:
        days.setdefault(activity.starts_at.astimezone(LOCAL_TZ).date(), []).append(activity)
    previous = (first - timedelta(days=1)).replace(day=1)
    return render("volunteer/index.html", first=first, days=sorted(days.items()),
                  previous=f"{previous:%Y-%m}", following=f"{following:%Y-%m}",
                  can_manage=current_user.can(MANAGE))


# -- activities ------------------------------------------------------------------------------

def _units():
    return [u for u in org_units() if scope(MANAGE).contains(u.path) and u.level in ("street", "community", "grid")]


@pages.route("/activities/new", methods=["GET", "POST"])
@requires(MANAGE)
def activity_new():
    errors, data = {}, {}
    if request.method == "POST":
        data = form_data(booleans=("insurance", "adults_only"), integers=("quota",))
        try:
            activity = activities.create_activity(data, scope=scope(), actor=current_user.username)
        except APIError as err:
            errors = field_errors(err)
        else:
            flash("活动已发布", "success")
            return redirect(url_for(".roster", activity_id=activity.id))
    return render("volunteer/activity_form.html", data=data, errors=errors, units=_units()), 422 if errors else 200


def _roster_activity(activity_id: int) -> Activity:
    try:
        return activities.get_activity(activity_id, scope(VIEW))
    except APIError:
        abort(404)


@pages.get("/activities/<int:activity_id>")
@requires(VIEW)
def roster(activity_id: int):
    """The organiser's roster: enrollments, attendance, hours to confirm, disputes, QR codes."""
    activity = _roster_activity(activity_id)
    rows = db.execute(sa.select(Enrollment, Volunteer).join(Volunteer, Volunteer.id == Enrollment.volunteer_id)
                      .where(Enrollment.activity_id == activity.id)
                      .order_by(sa.case((Enrollment.status == "enrolled", 0), (Enrollment.status == "waiting", 1),
                                        else_=2), Enrollment.id).limit(1000)).all()
    confirmed = dict(db.execute(sa.select(HoursEntry.volunteer_id, sa.func.sum(HoursEntry.hours))
                                .where(HoursEntry.activity_id == activity.id)
                                .group_by(HoursEntry.volunteer_id)).all())
    disputes = db.execute(sa.select(Dispute, HoursEntry, Volunteer)
                          .join(HoursEntry, HoursEntry.id == Dispute.entry_id)
                          .join(Volunteer, Volunteer.id == HoursEntry.volunteer_id)
                          .where(HoursEntry.activity_id == activity.id, Dispute.resolved_at.is_(None))).all()
    events = db.execute(sa.select(EnrollmentEvent, Volunteer.name)
                        .join(Enrollment, Enrollment.id == EnrollmentEvent.enrollment_id)
                        .join(Volunteer, Volunteer.id == Enrollment.volunteer_id)
                        .where(Enrollment.activity_id == activity.id)
                        .order_by(EnrollmentEvent.id.desc()).limit(50)).all()
    signup_url = external_url("p_volunteer.signup", activity_id=activity.id)
    qr = {kind: external_url("p_volunteer.checkin", token=checkin_token(activity.id, kind)) for kind in ("in", "out")}
    return render("volunteer/roster.html", activity=activity, rows=rows, confirmed=confirmed, disputes=disputes,
                  events=events, event_titles=EVENT_TITLES,
                  proposed=activities.proposed_hours, status_titles=activities.STATUS_TITLES,
                  signup_url=signup_url, signup_qr=qr_data_uri(signup_url),
                  checkin_url=qr["in"], checkin_qr=qr_data_uri(qr["in"]),
                  checkout_url=qr["out"], checkout_qr=qr_data_uri(qr["out"]),
                  today=today_local(), can_manage=current_user.can(MANAGE) and scope().contains(activity.org_path),
                  mask_name=mask_name, fmt_hours=fmt_hours)


def _managed_activity(activity_id: int) -> Activity:
    try:
        return activities.get_activity(activity_id, scope())
    except APIError:
        abort(404)


@pages.post("/activities/<int:activity_id>/enroll")
@requires(MANAGE)
def roster_enroll(activity_id: int):
    _managed_activity(activity_id)
    raw = request.form.get("volunteer", "").strip()
    if parse_int(raw) is not None:
        registry.managed_volunteer(parse_int(raw))
    try:
        enrollment = activities.enroll(activity_id, parse_int(raw, raw), scope=scope(),
                                       actor=current_user.username)
    except APIError as err:
        flash(err.problems[0][1], "error")
    else:
        flash("报名成功" if enrollment.status == "enrolled" else
              f"名额已满，已列入候补（第 {activities.waiting_position(enrollment)} 位）", "success")
    return redirect(url_for(".roster", activity_id=activity_id))


@pages.post("/activities/<int:activity_id>/enrollments/<int:enrollment_id>/<any(in, out, cancel):what>")
@requires(MANAGE)
def roster_attendance(activity_id: int, enrollment_id: int, what: str):
    _managed_activity(activity_id)
    enrollment = db.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.activity_id != activity_id:
        abort(404)
    try:
        if what == "cancel":
            activities.cancel(enrollment_id, scope(), actor=current_user.username)
            flash("已取消报名", "success")
        else:
            activities.attendance(activity_id, enrollment.volunteer_id, what, actor=current_user.username,
                                  channel="staff")
            flash("已签到" if what == "in" else "已签退", "success")
    except APIError as err:
        flash(err.problems[0][1], "error")
    return redirect(url_for(".roster", activity_id=activity_id))


@pages.post("/activities/<int:activity_id>/hours")
@requires(MANAGE)
def roster_hours(activity_id: int):
    """The organiser confirms a volunteer's hours (a new ledger entry)."""
    activity = _managed_activity(activity_id)
    raw = request.form.get("volunteer", "")
    if parse_int(raw) is not None:
        registry.managed_volunteer(parse_int(raw))
    try:
        entry = hours.record_hours(activity, parse_int(raw, raw), request.form.get("hours", "").strip(),
                                   served_on=request.form.get("served_on") or None, actor=current_user.username)
    except APIError as err:
        flash(f"工时未登记：{err.problems[0][1]}", "error")
    else:
        flash(f"已确认 {fmt_hours(entry.hours)} 小时", "success")
    return redirect(url_for(".roster", activity_id=activity_id))


# -- volunteers --------------------------------------------------------------------------------

@pages.get("/volunteers")
@requires(VIEW)
def volunteers():
    totals = (sa.select(HoursEntry.volunteer_id, sa.func.sum(HoursEntry.hours).label("total"))
              .group_by(HoursEntry.volunteer_id).subquery())
    page = paginate(sa.select(Volunteer, totals.c.total).outerjoin(totals, totals.c.volunteer_id == Volunteer.id)
                    .where(scope(VIEW).clause(Volunteer.org_path)), Volunteer.id, limit=PAGE_SIZE)
    return render("volunteer/volunteers.html", rows=page.items, page=page,
                  mask_name=mask_name, mask_id_card=mask_id_card, mask_mobile=mask_mobile, fmt_hours=fmt_hours,
                  stars_for=stars_for, can_manage=current_user.can(MANAGE))


@pages.route("/volunteers/new", methods=["GET", "POST"])
@requires(MANAGE)
def volunteer_new():
    errors, data = {}, {}
    if request.method == "POST":
        data = form_data(booleans=("guardian_consent", "party_member", "double_report"),
                         integers=("report_unit", "team"))
        try:
            volunteer = registry.register_volunteer(data, scope=scope(), actor=current_user.username)
        except APIError as err:
            errors = field_errors(err)
        else:
            flash("志愿者已登记", "success")
            return redirect(url_for(".volunteer", volunteer_id=volunteer.id))
    units = db.scalars(sa.select(ReportUnit).where(scope().clause(ReportUnit.org_path)).order_by(ReportUnit.name)
                       .limit(500)).all()
    teams = db.scalars(sa.select(Team).where(scope().clause(Team.org_path)).order_by(Team.name).limit(500)).all()
    return render("volunteer/volunteer_form.html", data=data, errors=errors, units=_units(),
                  report_units=units, teams=teams), 422 if errors else 200


def _scoped_volunteer(volunteer_id: int, permission: str = VIEW) -> Volunteer:
    volunteer = db.get(Volunteer, volunteer_id)
    if volunteer is None or not scope(permission).contains(volunteer.org_path):
        abort(404)
    return volunteer


@pages.get("/volunteers/<int:volunteer_id>")
@requires(VIEW)
def volunteer(volunteer_id: int):
    """志愿者服务记录: ledger lines (corrections included), stars and their notice, certificates."""
    found = _scoped_volunteer(volunteer_id)
    page = paginate(sa.select(HoursEntry, Activity.title).outerjoin(Activity, Activity.id == HoursEntry.activity_id)
                    .where(HoursEntry.volunteer_id == found.id), (HoursEntry.served_on, HoursEntry.id),
                    limit=PAGE_SIZE)
    total = hours.total_hours(found.id)
    issued = db.scalars(sa.select(CertificateRecord).where(CertificateRecord.volunteer_id == found.id)
                        .order_by(CertificateRecord.id.desc()).limit(20)).all()
    return render("volunteer/volunteer.html", v=found, entries=page.items, page=page,
                  total=total, stars=stars_for(total),
                  award=hours.latest_award(found.id), certificates=issued, by_year=hours.hours_by_year(found.id),
                  can_manage=current_user.can(MANAGE) and scope().contains(found.org_path),
                  record_url=external_url("p_volunteer.me", token=volunteer_token(found.id)),
                  mask_name=mask_name, mask_id_card=mask_id_card, mask_mobile=mask_mobile, fmt_hours=fmt_hours)


@pages.post("/hours/<int:entry_id>/correct")
@requires(MANAGE)
def correct(entry_id: int):
    entry = db.get(HoursEntry, entry_id)
    if entry is None:
        abort(404)
    _scoped_volunteer(entry.volunteer_id, MANAGE)
    try:
        hours.correct_hours(entry_id, request.form.get("hours", "").strip(), request.form.get("reason", ""),
                            actor=current_user.username)
    except APIError as err:
        flash(f"更正未保存：{err.problems[0][1]}", "error")
    else:
        flash("已新增更正记录", "success")
    return redirect(url_for(".volunteer", volunteer_id=entry.volunteer_id))


@pages.post("/disputes/<int:dispute_id>/reject")
@requires(MANAGE)
def dispute_reject(dispute_id: int):
    dispute = db.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    entry = db.get(HoursEntry, dispute.entry_id)
    _scoped_volunteer(entry.volunteer_id, MANAGE)
    try:
        hours.reject_dispute(dispute_id, request.form.get("resolution", ""), actor=current_user.username)
    except APIError as err:
        flash(err.problems[0][1], "error")
    else:
        flash("异议已处理，维持原工时", "success")
    back = request.form.get("next", "")
    if not back.startswith("/p/volunteer/"):  # only back to our own pages (no open redirect)
        back = url_for(".volunteer", volunteer_id=entry.volunteer_id)
    return redirect(back)


@pages.post("/volunteers/<int:volunteer_id>/certificate")
@requires(MANAGE)
def issue_certificate(volunteer_id: int):
    found = _scoped_volunteer(volunteer_id, MANAGE)
    record = certificates.issue(found, current_user.username)
    flash(f"已出具志愿服务记录证明 {record.serial}", "success")
    return redirect(url_for(".volunteer", volunteer_id=found.id))


@pages.get("/certificates/<serial>.pdf")
@requires(VIEW)
def certificate_pdf(serial: str):
    from fengqiao_volunteer.public_pages import pdf_response

    record = certificates.by_serial(serial)
    if record is None:
        abort(404)
    _scoped_volunteer(record.volunteer_id)
    return pdf_response(record)


# -- rankings, units, teams, wishes ------------------------------------------------------------

@pages.get("/rankings")
@requires(VIEW)
def rankings():
    """工时排行 by community (the volunteers' residence units) and by 双报到 unit."""
    year = int_arg("year", minimum=1950, maximum=2199, message="年份应为 1950–2199 之间的四位数字")
    conditions = [scope(VIEW).clause(Volunteer.org_path)]
    if year:
        conditions += [HoursEntry.served_on >= date(year, 1, 1), HoursEntry.served_on < date(year + 1, 1, 1)]
    base = sa.select(sa.func.sum(HoursEntry.hours).label("total"),
                     sa.func.count(sa.distinct(Volunteer.id)).label("people")).join(
        Volunteer, Volunteer.id == HoursEntry.volunteer_id).where(*conditions)
    by_org = db.execute(base.add_columns(Volunteer.org).group_by(Volunteer.org)
                        .order_by(sa.desc("total")).limit(100)).all()
    by_unit = db.execute(base.add_columns(ReportUnit.name).join(ReportUnit, ReportUnit.id == Volunteer.report_unit_id)
                         .group_by(ReportUnit.id, ReportUnit.name).order_by(sa.desc("total")).limit(100)).all()
    names = {u.code: u.name for u in org_units(active_only=False)}
    return render("volunteer/rankings.html", by_org=by_org, by_unit=by_unit, names=names, year=year or "",
                  fmt_hours=fmt_hours)


@pages.route("/units", methods=["GET", "POST"])
@requires(VIEW)
def units():
    """双报到 units registered with their communities."""
    errors, data = {}, {}
    if request.method == "POST":
        if not current_user.can(MANAGE):
            abort(403)
        data = form_data()
        try:
            registry.register_unit(data, scope=scope(), actor=current_user.username)
        except APIError as err:
            errors = field_errors(err)
        else:
            flash("报到单位已登记", "success")
            return redirect(url_for(".units"))
    page = paginate(sa.select(ReportUnit).where(scope(VIEW).clause(ReportUnit.org_path)), ReportUnit.id,
                    limit=PAGE_SIZE)
    names = {u.code: u.name for u in org_units(active_only=False)}
    return render("volunteer/units.html", rows=page.items, page=page,
                  errors=errors, data=data, units=_units(), names=names, mask_name=mask_name,
                  mask_mobile=mask_mobile, can_manage=current_user.can(MANAGE)), 422 if errors else 200


@pages.route("/teams", methods=["GET", "POST"])
@requires(VIEW)
def teams():
    errors, data = {}, {}
    if request.method == "POST":
        if not current_user.can(MANAGE):
            abort(403)
        data = form_data(integers=("leader",))
        try:
            registry.create_team(data, scope=scope())
        except APIError as err:
            errors = field_errors(err)
        else:
            flash("队伍已建立", "success")
            return redirect(url_for(".teams"))
    members = (sa.select(Volunteer.team_id, sa.func.count().label("n")).group_by(Volunteer.team_id).subquery())
    page = paginate(sa.select(Team, members.c.n, Volunteer.name).outerjoin(members, members.c.team_id == Team.id)
                    .outerjoin(Volunteer, Volunteer.id == Team.leader_id)
                    .where(scope(VIEW).clause(Team.org_path)), Team.id, limit=PAGE_SIZE)
    names = {u.code: u.name for u in org_units(active_only=False)}
    return render("volunteer/teams.html", rows=page.items, page=page,
                  errors=errors, data=data, units=_units(), names=names, mask_name=mask_name,
                  can_manage=current_user.can(MANAGE)), 422 if errors else 200


@pages.get("/wishes")
@requires(VIEW)
def wish_list():
    state = request.args.get("state") or None
    page = wishes.wishes_in(scope("cases.view"), state)  # wishes are cases: the case scope
    return render("volunteer/wishes.html", wishes=page.items, state=state, page=page,
                  can_manage=current_user.can(MANAGE))


@pages.post("/wishes/<number>/claim")
@requires(MANAGE)
def wish_claim(number: str):
    ident = parse_int(request.form.get("volunteer", "").strip())
    if ident is None:
        flash("请填写有效的志愿者编号", "error")
        return redirect(url_for(".wish_list"))
    found = registry.managed_volunteer(ident)
    try:
        wishes.claim(number, found, current_user.username)
    except APIError as err:
        if err.status == 404:  # a wish outside the user's scope: the error page, as for reads
            raise
        flash(err.problems[0][1], "error")
    else:
        flash(f"已登记 {mask_name(found.name)} 认领心愿 {number}", "success")
    return redirect(url_for(".wish_list"))
