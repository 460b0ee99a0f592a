"""Pages for people without an account, built for a phone: sign-up for an activity, the
volunteer's own record (a signed link), QR sign-in/out at the venue, certificate
verification and the resident's confirmation of a 微心愿. Names are masked throughout."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.cases import case_info
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.files import FontMissing
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import Scope, org_unit, org_units
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import paginate, parse_int, public, rate_limited, render
from fengqiao.sdk.workdays import LOCAL_TZ, today_local
from flask import Response, abort, flash, redirect, request, url_for

from fengqiao_volunteer import activities, certificates, hours, registry, wishes
from fengqiao_volunteer.models import (
    Activity,
    CertificateRecord,
    Dispute,
    Enrollment,
    HoursEntry,
    StarAward,
    Volunteer,
)
from fengqiao_volunteer.rules import fmt_hours, stars_for
from fengqiao_volunteer.tokens import checkin_from_token, volunteer_from_token, volunteer_token
from fengqiao_volunteer.web import PAGE_SIZE, field_errors, form_data, pages

SIGNUP_FIELDS = ("name", "id_card", "mobile", "guardian_consent", "guardian_name")


def pdf_response(record: CertificateRecord):
    try:
        body = certificates.pdf_for(record)
    except FontMissing as err:
        abort(503, str(err))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{record.serial}.pdf"'})


@pages.route("/a/<int:activity_id>", methods=["GET", "POST"])
@public
@rate_limited()
def signup(activity_id: int):
    """报名 on a phone: a registered volunteer gives name + ID number; a new one registers too."""
    activity = db.get(Activity, activity_id)
    if activity is None or activity.status != "published":
        abort(404)
    errors, data = {}, {}
    if request.method == "POST":
        data = form_data(booleans=("guardian_consent",))
        volunteer = registry.find_by_identity(data.get("name", ""), data.get("id_card", ""))
        try:
            if volunteer is None:
                if db.scalar(sa.select(Volunteer.id).where(Volunteer.id_card == data.get("id_card", "").strip().upper())):
                    raise APIError(422, [("/name", "姓名与登记的身份证号不符", "mismatch")])
                fields = {k: data.get(k) for k in ("name", "id_card", "mobile", "guardian_consent", "guardian_name",
                                                   "skills")}
                volunteer = registry.register_volunteer({**fields, "org": activity.org}, scope=None, actor=None)
            enrollment = activities.enroll(activity.id, volunteer.id, channel="phone")
        except APIError as err:
            errors = field_errors(err, SIGNUP_FIELDS)
        else:
            if enrollment.status == "enrolled":
                flash(f"报名成功：{activity.title}", "success")
            else:
                flash(f"名额已满，您已列入候补（第 {activities.waiting_position(enrollment)} 位），有空位时自动递补", "success")
            return redirect(url_for(".me", token=volunteer_token(volunteer.id)))
    unit = org_unit(activity.org)
    return render("volunteer/signup.html", activity=activity, unit=unit, data=data, errors=errors,
                  full=activity.enrolled >= activity.quota), 422 if errors else 200


@pages.get("/me/<token>")
@public
def me(token: str):
    """The volunteer's own record: hours, stars, disputes, certificate, 微心愿 to claim."""
    volunteer = _me(token)
    entries = db.execute(sa.select(HoursEntry, Activity.title).outerjoin(Activity, Activity.id == HoursEntry.activity_id)
                         .where(HoursEntry.volunteer_id == volunteer.id)
                         .order_by(HoursEntry.served_on.desc(), HoursEntry.id.desc()).limit(100)).all()
    disputed = set(db.scalars(sa.select(Dispute.entry_id).join(HoursEntry, HoursEntry.id == Dispute.entry_id)
                              .where(HoursEntry.volunteer_id == volunteer.id)))
    upcoming = db.execute(sa.select(Activity, Enrollment.status)
                          .join(Enrollment, Enrollment.activity_id == Activity.id)
                          .where(Enrollment.volunteer_id == volunteer.id, Activity.ends_at >= utcnow())
                          .order_by(Activity.starts_at).limit(20)).all()
    total = hours.total_hours(volunteer.id)
    open_wishes = wishes.wishes_in(_community_scope(volunteer), "posted", cursor="").items
    return render("volunteer/me.html", v=volunteer, token=token, entries=entries, disputed=disputed, total=total,
                  stars=stars_for(total), award=hours.latest_award(volunteer.id), upcoming=upcoming,
                  by_year=hours.hours_by_year(volunteer.id), today=today_local(),
                  open_until=hours.dispute_open_until, open_wishes=open_wishes, claimed=wishes.claims_by(volunteer.id),
                  case_info=case_info, mask_name=mask_name, fmt_hours=fmt_hours,
                  status_titles=activities.STATUS_TITLES)


def _me(token: str) -> Volunteer:
    volunteer_id = volunteer_from_token(token)
    volunteer = db.get(Volunteer, volunteer_id) if volunteer_id else None
    if volunteer is None:
        abort(404)
    return volunteer


def _community_scope(volunteer: Volunteer):
    return Scope((volunteer.org_path,))


@pages.post("/me/<token>/certificate")
@public
def me_certificate(token: str):
    """Download a service-record certificate (a new serial only when the hours changed)."""
    volunteer = _me(token)
    total = hours.total_hours(volunteer.id)
    record = db.scalar(sa.select(CertificateRecord).where(CertificateRecord.volunteer_id == volunteer.id)
                       .order_by(CertificateRecord.id.desc()).limit(1))
    if record is None or record.total_hours != total:
        record = certificates.issue(volunteer, None)
    return pdf_response(record)


@pages.post("/me/<token>/disputes")
@public
@rate_limited()
def me_dispute(token: str):
    volunteer = _me(token)
    raw = request.form.get("entry", "")
    try:
        hours.raise_dispute(parse_int(raw, 0), volunteer.id, request.form.get("reason", ""))
    except APIError as err:
        flash(f"异议未提交：{err.problems[0][1]}", "error")
    else:
        flash("异议已提交，组织方将核实处理", "success")
    return redirect(url_for(".me", token=token))


@pages.post("/me/<token>/wishes/<number>/claim")
@public
def me_claim(token: str, number: str):
    """A volunteer (or 双报到 party member) takes on a wish of their own community."""
    volunteer = _me(token)
    info = case_info(number)
    unit = org_unit(info["org"]) if info else None
    if info is None or info["type"] != wishes.CASE_TYPE or unit is None or not unit.path.startswith(volunteer.org_path):
        abort(404)
    try:
        wishes.claim(number, volunteer, None)
    except APIError as err:
        flash(err.problems[0][1], "error")
    else:
        flash("认领成功，请尽快联系社区了解心愿详情", "success")
    return redirect(url_for(".me", token=token))


@pages.route("/checkin/<token>", methods=["GET", "POST"])
@public
@rate_limited()
def checkin(token: str):
    """签到/签退 by scanning the organiser's QR code at the venue."""
    found = checkin_from_token(token)
    activity = db.get(Activity, found[0]) if found else None
    if activity is None:
        return render("volunteer/message.html", title="二维码无效",
                      message="二维码已失效或不正确，请向组织方索取新的签到码。"), 404
    kind = found[1]
    errors, data, done = {}, {}, None
    if request.method == "POST":
        data = form_data()
        volunteer = registry.find_by_identity(data.get("name", ""), data.get("id_card", ""))
        try:
            if volunteer is None:
                raise APIError(422, [("/id_card", "未找到该志愿者，请核对姓名和身份证号", "not_found")])
            done = activities.attendance(activity.id, volunteer.id, kind)
        except APIError as err:
            errors = field_errors(err, ("name", "id_card"))
    return render("volunteer/checkin.html", activity=activity, kind=kind, data=data, errors=errors, done=done,
                  LOCAL_TZ=LOCAL_TZ), 422 if errors else 200


@pages.get("/verify/<serial>")
@public
@rate_limited("track", methods=("GET",))
def verify(serial: str):
    """核验: anyone holding the certificate (or its QR code) checks it; the name is masked."""
    record = certificates.by_serial(serial)
    volunteer = db.get(Volunteer, record.volunteer_id) if record else None
    return render("volunteer/verify.html", record=record, serial=serial,
                  name=mask_name(volunteer.name) if volunteer else "", fmt_hours=fmt_hours,
                  stars=stars_for(record.total_hours) if record else 0), 200 if record else 404


@pages.route("/wishes/confirm", methods=["GET", "POST"])
@public
@rate_limited("track")
def wish_confirm():
    """The resident confirms their 微心愿 came true, with the number and 查询码."""
    number = (request.values.get("number") or "").strip()
    code = (request.values.get("code") or "").strip()
    error, info = None, None
    if request.method == "POST":
        try:
            info = wishes.confirm_by_resident(number, code)
        except APIError as err:
            error = err.problems[0][1] if err.status != 409 else "该心愿当前无需确认（尚未实现或已确认）"
    return render("volunteer/wish_confirm.html", number=number, code=code, error=error, info=info), (
        422 if error else 200)


@pages.get("/stars")
@public
def star_notice():
    """星级公示: star levels reached and still in their notice period (names masked), so
    residents can raise an objection before they become final."""
    page = paginate(sa.select(StarAward, Volunteer.name, Volunteer.org)
                    .join(Volunteer, Volunteer.id == StarAward.volunteer_id)
                    .where(StarAward.status == "notice"), (StarAward.notice_ends, StarAward.id),
                    limit=PAGE_SIZE, descending=False)
    names = {u.code: u.name for u in org_units(active_only=False)}
    return render("volunteer/stars.html", rows=page.items, page=page,
                  names=names, mask_name=mask_name)
