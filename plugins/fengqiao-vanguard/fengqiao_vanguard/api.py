"""JSON routes, mounted at ``/api/v1/p/vanguard/`` (staff token or session; errors in the
one shape). The web pages call the same service functions."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import Scope, org_unit
from fengqiao.sdk.web import (
    current_user,
    document,
    int_arg,
    json_body,
    paginate,
    public,
    query,
    rate_limited,
    requires,
    validate,
)
from fengqiao.sdk.workdays import today_local
from flask import Blueprint, request

from fengqiao_vanguard import events as event_service
from fengqiao_vanguard import indicators, notices
from fengqiao_vanguard.members import (
    REVIEW,
    can_review,
    create_member,
    is_self,
    member_json,
    members_in,
    review_scope,
    visible_member,
)
from fengqiao_vanguard.models import IndicatorSet, Member, Notice, ScoreEvent
from fengqiao_vanguard.scoring import member_score, score_json

api = Blueprint("vanguard_api", __name__)
MANAGE = "vanguard.manage"
TAG = "vanguard"


def year_arg(name: str = "year") -> int:
    return int_arg(name, today_local().year, minimum=2000, maximum=2100, message="年份应为 2000–2100 之间的四位数字",
                   code="format")


def optional_body() -> dict:
    if not request.get_data():
        return {}
    return json_body()


def _page(page, to_json) -> dict:
    return {"items": [to_json(i) for i in page.items], "next_cursor": page.next_cursor}


# -- indicators and sets --------------------------------------------------------------------------

@api.get("/indicators")
def list_indicators():
    org = request.args.get("org") or None
    if org and org_unit(org) is None:
        raise ValidationFailed([("/org", "单位不存在", "unknown_org")])
    item_set = indicators.set_for_year(org, year_arg())
    return [i.to_json() for i in item_set.indicators]


document("/p/vanguard/indicators", "get", "适用的指标（某单位、某年度在用的指标体系）", tag=TAG,
         params=[query("org", "单位代码（默认：全辖区默认指标体系）"), query("year", "年度 YYYY（默认今年）")],
         responses={200: "[{id, code, name, kind: basic|bonus|deduction|veto, max_points}]",
                    401: "需登录", 422: "单位或年份无效"})


@api.get("/sets")
def list_sets():
    indicators.ensure_default_set()
    org = request.args.get("org")
    stmt = sa.select(IndicatorSet).order_by(IndicatorSet.org_code, IndicatorSet.version.desc()).limit(200)
    if org is not None:
        stmt = stmt.where(IndicatorSet.org_code == org)
    return {"items": [indicators.set_to_json(s) for s in db.scalars(stmt)]}


document("/p/vanguard/sets", "get", "指标体系各版本（含草稿）", tag=TAG,
         params=[query("org", "只看该单位的版本（空字符串：全辖区默认）")],
         responses={200: "{items: [{id, org, name, version, status, effective_from, bands, bonus_cap, indicators}]}",
                    401: "需登录"})


@api.post("/sets")
@requires(MANAGE)
def new_set():
    data = json_body({"type": "object", "properties": {"org": {"type": ["string", "null"], "maxLength": 40}},
                      "additionalProperties": False})
    return indicators.set_to_json(indicators.create_draft(data.get("org") or "", current_user.username)), 201


document("/p/vanguard/sets", "post", "新建指标体系草稿（复制该单位现行版本）", tag=TAG,
         body={"type": "object", "properties": {"org": {"type": "string"}}},
         responses={201: "草稿", 403: "需要 vanguard.manage 权限", 422: "单位不存在"})


def _set(set_id: int) -> IndicatorSet:
    item_set = db.get(IndicatorSet, set_id)
    if item_set is None:
        raise APIError(404)
    return item_set


@api.patch("/sets/<int:set_id>")
@requires(MANAGE)
def edit_set(set_id: int):
    return indicators.set_to_json(indicators.update_draft(_set(set_id), json_body()))


document("/p/vanguard/sets/{set_id}", "patch", "修改草稿：名称、星级分数线、加分上限、指标", tag=TAG,
         body=indicators.SET_SCHEMA,
         responses={200: "草稿", 403: "需要 vanguard.manage 权限", 404: "不存在", 409: "已发布，不能修改",
                    422: "内容无效"})


@api.post("/sets/<int:set_id>/publish")
@requires(MANAGE)
def publish_set(set_id: int):
    data = json_body({"type": "object", "properties": {"effective_from": {"type": "string", "format": "date"}},
                      "required": ["effective_from"], "additionalProperties": False})
    try:
        effective = date.fromisoformat(data["effective_from"])
    except ValueError:
        raise ValidationFailed([("/effective_from", "请输入有效的日期（如 2027-01-01）", "format")]) from None
    return indicators.set_to_json(indicators.publish(_set(set_id), effective, current_user.username))


document("/p/vanguard/sets/{set_id}/publish", "post", "发布草稿，自生效日期起适用", tag=TAG,
         body={"type": "object", "properties": {"effective_from": {"type": "string", "format": "date"}},
               "required": ["effective_from"]},
         responses={200: "已发布的版本", 403: "需要 vanguard.manage 权限", 404: "不存在", 409: "已发布",
                    422: "内容无效"})


# -- members ----------------------------------------------------------------------------------------

@api.post("/members")
@requires(REVIEW)
def new_member():
    member = create_member(json_body(), current_user)
    return {"id": member.id}, 201


document("/p/vanguard/members", "post", "登记党员", tag=TAG,
         body={"type": "object", "required": ["name", "org", "member_type"],
               "properties": {"name": {"type": "string"}, "org": {"type": "string"},
                              "member_type": {"enum": ["employed", "retired", "mobile", "other"]},
                              "id_card": {"type": "string"}, "mobile": {"type": "string"},
                              "username": {"type": "string"}, "posts": {"type": "array"},
                              "commitments": {"type": "string"}}},
         responses={201: "{id}", 401: "需登录", 403: "需要 vanguard.review 权限，且单位在本人辖区内",
                    409: "身份证号已登记", 422: "字段无效（中文说明）"})


@api.get("/members")
@requires(REVIEW)
def list_members():
    scope = review_scope()
    org = request.args.get("org")
    unit = org_unit(org) if org else None
    if org and (unit is None or not scope.contains(unit.path)):
        raise ValidationFailed([("/org", "单位不存在或不在您的辖区内", "unknown_org")])
    page = paginate(members_in(Scope((unit.path,)) if unit else scope), Member.id, limit=50, descending=False)
    return _page(page, member_json)


document("/p/vanguard/members", "get", "本辖区党员（分页）", tag=TAG,
         params=[query("org", "单位代码"), query("cursor", "下一页游标")],
         responses={200: "{items: [{id, name, org, org_name, member_type, id_card(已脱敏), mobile(已脱敏), posts, commitments}], next_cursor}",
                    401: "需登录", 403: "需要 vanguard.review 权限"})


@api.get("/members/<int:member_id>")
def get_member(member_id: int):
    return member_json(visible_member(member_id))


document("/p/vanguard/members/{member_id}", "get", "党员信息（身份证号、手机号已脱敏）", tag=TAG,
         responses={200: "{id, name, org, member_type, …}", 401: "需登录", 404: "不存在或不在辖区内"})


@api.post("/members/<int:member_id>/events")
def new_event(member_id: int):
    member = visible_member(member_id)
    source = "branch" if can_review(member) else "member"
    event = event_service.propose(member, json_body(), actor=current_user.username, source=source)
    return {"id": event.id, "status": event.status}, 201


document("/p/vanguard/members/{member_id}/events", "post", "申报积分事项（待支部审核）", tag=TAG,
         body=event_service.EVENT_SCHEMA,
         responses={201: "{id, status: pending}", 401: "需登录", 404: "党员不存在或不在辖区内",
                    422: "指标、分值、期间等无效（中文说明）"})


@api.get("/members/<int:member_id>/events")
def member_events(member_id: int):
    member = visible_member(member_id)
    return {"items": [event_service.event_json(e) for e in event_service.events_of(member.id, year_arg())]}


document("/p/vanguard/members/{member_id}/events", "get", "党员某年度的积分事项", tag=TAG,
         params=[query("year", "年度 YYYY（默认今年）")],
         responses={200: "{items: [event]}", 401: "需登录", 404: "不存在或不在辖区内"})


@api.get("/members/<int:member_id>/score")
def member_score_route(member_id: int):
    member = visible_member(member_id)
    year = year_arg()
    return score_json(member_score(member, year), year)


document("/p/vanguard/members/{member_id}/score", "get", "党员年度得分与星级", tag=TAG,
         params=[query("year", "年度 YYYY（默认今年）")],
         responses={200: "{score, stars, vetoed, year, basic, bonus, deduction, notes: [被截取的加分等说明], items}",
                    401: "需登录", 404: "不存在或不在辖区内", 422: "年份无效"})


# -- review -----------------------------------------------------------------------------------------

@api.get("/events/<int:event_id>")
def get_event(event_id: int):
    event = db.get(ScoreEvent, event_id)
    if event is None or not (can_review(event.member) or is_self(event.member)):
        raise APIError(404)
    return event_service.event_json(event, history=True)


document("/p/vanguard/events/{event_id}", "get", "积分事项及其审核记录", tag=TAG,
         responses={200: "{id, member, indicator, points, reason, period, status, history: [{at, actor, action, comment}]}",
                    401: "需登录", 404: "不存在或不在辖区内"})


@api.get("/queue")
@requires(REVIEW)
def queue():
    page = paginate(event_service.pending_in(review_scope()), ScoreEvent.id, limit=50, descending=False)
    return _page(page, event_service.event_json)


document("/p/vanguard/queue", "get", "待审核的积分事项（本辖区，分页）", tag=TAG,
         params=[query("cursor", "下一页游标")],
         responses={200: "{items: [event], next_cursor}", 401: "需登录", 403: "需要 vanguard.review 权限"})


REVIEW_BODY = {"type": "object", "properties": {"comment": {"type": "string", "maxLength": 500}},
               "additionalProperties": False}


@api.post("/events/<int:event_id>/approve")
@requires(REVIEW)
def approve(event_id: int):
    data = optional_body()
    validate(REVIEW_BODY, data)
    return event_service.event_json(event_service.review(event_id, "approve", current_user, data.get("comment", "")))


@api.post("/events/<int:event_id>/reject")
@requires(REVIEW)
def reject(event_id: int):
    data = optional_body()
    validate(REVIEW_BODY, data)
    return event_service.event_json(event_service.review(event_id, "reject", current_user, data.get("comment", "")))


for _action, _summary in (("approve", "审核通过（计入得分）"), ("reject", "审核不通过（须填写理由）")):
    document(f"/p/vanguard/events/{{event_id}}/{_action}", "post", _summary, tag=TAG, body=REVIEW_BODY,
             responses={200: "审核后的事项", 401: "需登录", 403: "需要 vanguard.review 权限；不能审核本人提出的事项",
                        404: "不存在或不在辖区内", 409: "已审核", 422: "理由无效"})


# -- notices, ratings, honour board ------------------------------------------------------------------

@api.post("/notices")
@requires(REVIEW)
def new_notice():
    notice = notices.publish_notice(json_body(), current_user)
    return notice_json(notice), 201


def notice_json(notice: Notice) -> dict:
    unit = org_unit(notice.org_code)
    return {"id": notice.id, "org": notice.org_code, "org_name": unit.name if unit else notice.org_code,
            "year": notice.year, "quarter": notice.quarter, "rows": notice.rows,
            "published_at": notice.published_at.isoformat(), "objection_ends": notice.objection_ends.isoformat(),
            "open": notices.notice_open(notice)}


document("/p/vanguard/notices", "post", "发布季度公示（快照得分，开放异议期）", tag=TAG,
         body=notices.NOTICE_SCHEMA,
         responses={201: "{id, org, year, quarter, rows: [{member, name(已脱敏), branch, score, stars, vetoed}], objection_ends, open}",
                    401: "需登录", 403: "需要 vanguard.review 权限，且单位在辖区内", 409: "该季度已公示",
                    422: "字段无效"})


def _notice(notice_id: int) -> Notice:
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise APIError(404)
    return notice


@api.get("/notices/<int:notice_id>")
@public
def get_notice(notice_id: int):
    return notice_json(_notice(notice_id))


document("/p/vanguard/notices/{notice_id}", "get", "公示内容（公开；姓名已脱敏）", tag=TAG, secured=False,
         responses={200: "公示", 404: "不存在"})


@api.post("/notices/<int:notice_id>/objections")
@public
@rate_limited()
def new_objection(notice_id: int):
    objection = notices.raise_objection(_notice(notice_id), json_body())
    return {"id": objection.id}, 201


document("/p/vanguard/notices/{notice_id}/objections", "post", "对公示提出异议（公示期内，公开）", tag=TAG,
         secured=False, body=notices.OBJECTION_SCHEMA,
         responses={201: "{id}", 404: "不存在", 409: "公示期已结束", 422: "内容无效"})


@api.post("/ratings")
@requires(REVIEW)
def rate():
    return {"rated": notices.rate_year(json_body(), current_user)}


document("/p/vanguard/ratings", "post", "年度评星：按最终得分评定单位内全部党员", tag=TAG,
         body=notices.RATE_SCHEMA,
         responses={200: "{rated}", 401: "需登录", 403: "需要 vanguard.review 权限", 422: "字段无效"})


@api.get("/honour")
@public
def honour():
    org = request.args.get("org", "")
    if org_unit(org) is None:
        raise ValidationFailed([("/org", "请选择有效的社区", "unknown_org")])
    return {"items": notices.honour_board(org, year_arg())}


document("/p/vanguard/honour", "get", "先锋榜：某社区某年度获星党员（公开；姓名已脱敏）", tag=TAG, secured=False,
         params=[query("org", "社区代码"), query("year", "年度 YYYY")],
         responses={200: "{items: [{name, branch, stars, score}]}", 422: "单位或年份无效"})
