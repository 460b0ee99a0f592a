"""JSON routes under ``/api/v1/p/volunteer/`` (staff token or session; each documented)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import get_in_scope, scope_for
from fengqiao.sdk.privacy import mask_id_card, mask_mobile, mask_name
from fengqiao.sdk.web import (
    current_user,
    document,
    json_body,
    paginate,
    public,
    query,
    requires,
)
from fengqiao.sdk.workdays import LOCAL_TZ
from flask import Blueprint, jsonify

from fengqiao_volunteer import activities, certificates, hours, registry
from fengqiao_volunteer.models import Activity, Volunteer
from fengqiao_volunteer.rules import MAX_ID, stars_for, valid_id

api = Blueprint("volunteer_api", __name__)


@api.url_value_preprocessor
def _ids_in_range(_endpoint, values) -> None:
    for value in (values or {}).values():
        if isinstance(value, int) and not valid_id(value):
            raise APIError(404)
MANAGE, VIEW = "volunteer.manage", "volunteer.view"
PAGE_SIZE = 50


def _scope(permission: str = MANAGE):
    return scope_for(current_user, permission)


def volunteer_json(volunteer: Volunteer) -> dict:
    """A volunteer as the API shows it: personal data masked, stars from confirmed hours,
    the notice (公示) of the latest star award as a separate field."""
    total = hours.total_hours(volunteer.id)
    award = hours.latest_award(volunteer.id)
    return {
        "id": volunteer.id, "name": mask_name(volunteer.name), "id_card": mask_id_card(volunteer.id_card),
        "mobile": mask_mobile(volunteer.mobile) if volunteer.mobile else None, "org": volunteer.org,
        "total_hours": float(total), "stars": stars_for(total),
        "star_award": None if award is None else {
            "stars": award.stars, "status": award.status, "notice_ends": award.notice_ends.isoformat()},
        "party_member": volunteer.party_member, "double_report": volunteer.double_report,
        "guardian_consent": volunteer.guardian_consent, "team": volunteer.team_id,
        "report_unit": volunteer.report_unit_id,
    }


def activity_json(activity: Activity) -> dict:
    return {"id": activity.id, "title": activity.title, "org": activity.org, "place": activity.place,
            "starts_at": activity.starts_at.astimezone(LOCAL_TZ).isoformat(),
            "ends_at": activity.ends_at.astimezone(LOCAL_TZ).isoformat(), "quota": activity.quota,
            "enrolled": activity.enrolled, "insurance": activity.insurance, "adults_only": activity.adults_only,
            "status": activity.status}


@api.post("/volunteers")
@requires(MANAGE)
def create_volunteer():
    volunteer = registry.register_volunteer(json_body(), scope=_scope(), actor=current_user.username)
    return {"id": volunteer.id}, 201


@api.get("/volunteers")
@requires(VIEW)
def list_volunteers():
    page = paginate(sa.select(Volunteer).where(_scope(VIEW).clause(Volunteer.org_path)), Volunteer.id,
                    limit=PAGE_SIZE, descending=False)
    return {"items": [volunteer_json(v) for v in page.items], "next_cursor": page.next_cursor}


@api.get("/volunteers/<int:volunteer_id>")
@requires(VIEW)
def show_volunteer(volunteer_id: int):
    return volunteer_json(get_in_scope(Volunteer, volunteer_id, VIEW))


@api.post("/activities")
@requires(MANAGE)
def create_activity():
    activity = activities.create_activity(json_body(), scope=_scope(), actor=current_user.username)
    return {"id": activity.id}, 201


@api.get("/activities")
@requires(VIEW)
def list_activities():
    page = paginate(sa.select(Activity).where(_scope(VIEW).clause(Activity.org_path)),
                    (Activity.starts_at, Activity.id), limit=PAGE_SIZE)
    return {"items": [activity_json(a) for a in page.items], "next_cursor": page.next_cursor}


ENROLL_BODY = {"type": "object", "required": ["volunteer"],
               "properties": {"volunteer": {"type": "integer", "title": "志愿者编号", "minimum": 1, "maximum": MAX_ID}}}
HOURS_BODY = {"type": "object", "required": ["volunteer", "hours"],
              "properties": {"volunteer": {"type": "integer", "title": "志愿者编号", "minimum": 1, "maximum": MAX_ID},
                             "hours": {"type": "number", "title": "工时"},
                             "served_on": {"type": "string", "title": "服务日期", "format": "date"}}}
CORRECTION_BODY = {"type": "object", "required": ["hours", "reason"],
                   "properties": {"hours": {"type": "number", "title": "更正工时"},
                                  "reason": {"type": "string", "title": "更正原因"}}}


@api.post("/activities/<int:activity_id>/enrollments")
@requires(MANAGE)
def enroll(activity_id: int):
    body = json_body(ENROLL_BODY)
    activities.get_activity(activity_id, _scope())
    registry.managed_volunteer(body["volunteer"])
    enrollment = activities.enroll(activity_id, body["volunteer"], channel="api", scope=_scope(),
                                   actor=current_user.username)
    if enrollment.status == "enrolled":
        return {"id": enrollment.id, "status": "enrolled"}, 201
    position = activities.waiting_position(enrollment)
    response = jsonify({
        "errors": [{"pointer": "", "message": f"名额已满，已列入候补名单（第 {position} 位）", "code": "waitlisted"}],
        "id": enrollment.id, "status": "waiting", "position": position})
    response.status_code = 409
    return response


@api.post("/activities/<int:activity_id>/hours")
@requires(MANAGE)
def record_hours(activity_id: int):
    body = json_body(HOURS_BODY)
    activity = activities.get_activity(activity_id, _scope())
    registry.managed_volunteer(body["volunteer"])
    entry = hours.record_hours(activity, body["volunteer"], body["hours"], served_on=body.get("served_on"),
                               actor=current_user.username)
    total = hours.total_hours(entry.volunteer_id)
    return {"id": entry.id, "hours": float(entry.hours), "served_on": entry.served_on.isoformat(),
            "total_hours": float(total), "stars": stars_for(total)}, 201


@api.post("/hours/<int:entry_id>/corrections")
@requires(MANAGE)
def correct(entry_id: int):
    body = json_body(CORRECTION_BODY)
    original = get_in_scope(hours.HoursEntry, entry_id, MANAGE,
                            path=lambda e: db.get(Volunteer, e.volunteer_id).org_path)
    volunteer = db.get(Volunteer, original.volunteer_id)
    entry = hours.correct_hours(entry_id, body["hours"], body["reason"], actor=current_user.username)
    return {"id": entry.id, "hours": float(entry.hours), "total_hours": float(hours.total_hours(volunteer.id))}, 201


@api.post("/units")
@requires(MANAGE)
def create_unit():
    """双报到: a unit registers with the community where its party members serve."""
    unit = registry.register_unit(json_body(), scope=_scope(), actor=current_user.username)
    return {"id": unit.id}, 201


@api.post("/teams")
@requires(MANAGE)
def create_team():
    team = registry.create_team(json_body(), scope=_scope())
    return {"id": team.id}, 201


@api.get("/certificates/<serial>")
@public
def verify(serial: str):
    record = certificates.by_serial(serial)
    if record is None:
        raise APIError(404, [("", "证明编号不存在", "not_found")])
    volunteer = db.get(Volunteer, record.volunteer_id)
    return {"serial": record.serial, "valid": True, "name": mask_name(volunteer.name),
            "total_hours": float(record.total_hours), "issuer": record.issuer,
            "issued_on": record.issued_at.astimezone(LOCAL_TZ).date().isoformat()}


TAG = "volunteer"
AUTH = {401: "需登录", 403: "需要 volunteer.manage 权限"}
document("/p/volunteer/volunteers", "post", "登记志愿者（未成年人须监护人同意）", tag=TAG,
         body=registry.VOLUNTEER_SCHEMA,
         responses={201: "{id}", 409: "身份证号已登记 (duplicate)",
                    422: "校验失败；未成年人未经监护人同意 (guardian_consent)", **AUTH})
document("/p/volunteer/volunteers", "get", "志愿者列表（个人信息已脱敏，每页 50 条）", tag=TAG,
         params=[query("cursor", "上一页返回的 next_cursor（不填为第一页）")],
         responses={200: "{items: [志愿者], next_cursor}", **AUTH})
document("/p/volunteer/volunteers/{volunteer_id}", "get", "志愿者：累计工时、星级（按已确认工时计算）与星级公示状态",
         tag=TAG, responses={200: "{id, name, id_card, mobile, org, total_hours, stars, star_award: "
                                  "{stars, status: notice|final, notice_ends} | null, party_member, double_report, …}",
                             404: "不存在或不在管辖范围", **AUTH})
document("/p/volunteer/activities", "post", "发布志愿服务活动（可补录过去日期的活动）", tag=TAG,
         body=activities.ACTIVITY_SCHEMA,
         responses={201: "{id}", 422: "校验失败", **AUTH})
document("/p/volunteer/activities", "get", "活动列表（每页 50 条）", tag=TAG,
         params=[query("cursor", "上一页返回的 next_cursor（不填为第一页）")],
         responses={200: "{items: [{id, title, org, place, starts_at, ends_at, quota, enrolled, insurance, adults_only, status}], next_cursor}",
                    **AUTH})
document("/p/volunteer/activities/{activity_id}/enrollments", "post", "报名活动（先到先得，满员进入候补）", tag=TAG,
         body=ENROLL_BODY,
         responses={201: "{id, status: enrolled}",
                    409: "名额已满：code waitlisted（已列入候补，附 id、position）或 duplicate（已报名）",
                    422: "报名已截止等", 404: "活动或志愿者不存在，或不在管辖范围内 (pointer /volunteer)", **AUTH})
document("/p/volunteer/activities/{activity_id}/hours", "post", "登记并确认工时（0.5 小时为单位；不超过活动时长和每日上限）",
         tag=TAG, body=HOURS_BODY,
         responses={201: "{id, hours, served_on, total_hours, stars}",
                    422: "工时不合规（multipleOf、maximum、daily_limit）",
                    404: "活动或志愿者不存在，或不在管辖范围内 (pointer /volunteer)", **AUTH})
document("/p/volunteer/hours/{entry_id}/corrections", "post", "更正工时：新增一条带原因的更正记录（可为负数），原记录不变",
         tag=TAG, body=CORRECTION_BODY,
         responses={201: "{id, hours, total_hours}", 422: "校验失败", 404: "记录不存在", **AUTH})
document("/p/volunteer/units", "post", "双报到单位向社区报到", tag=TAG,
         body=registry.UNIT_SCHEMA, responses={201: "{id}", 422: "校验失败", **AUTH})
document("/p/volunteer/teams", "post", "建立志愿服务队（可指定队长）", tag=TAG,
         body=registry.TEAM_SCHEMA, responses={201: "{id}", 422: "校验失败", **AUTH})
document("/p/volunteer/certificates/{serial}", "get", "核验志愿服务记录证明（公开，姓名脱敏）", tag=TAG,
         secured=False, responses={200: "{serial, valid, name, total_hours, issuer, issued_on}", 404: "证明编号不存在"})
