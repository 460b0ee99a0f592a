"""Party members: registration, lookup within the caller's scope, masked views.

A member belongs to a branch (an org unit). Branch staff (``vanguard.review``) see the
members of their subtree; a member linked to an account (``username``) sees their own page.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit, scope_for
from fengqiao.sdk.privacy import mask_id_card, mask_mobile
from fengqiao.sdk.web import current_user, validate

from fengqiao_vanguard.models import MEMBER_TYPES, Member

REVIEW = "vanguard.review"

MEMBER_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "org": {"type": "string", "minLength": 1, "maxLength": 40},
        "member_type": {"enum": list(MEMBER_TYPES)},
        "id_card": {"type": ["string", "null"], "format": "cn-id-card"},
        "mobile": {"type": ["string", "null"], "format": "cn-mobile"},
        "username": {"type": ["string", "null"], "maxLength": 80},
        "posts": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 40},
                  "maxItems": 10, "uniqueItems": True},
        "commitments": {"type": ["string", "null"], "maxLength": 1000},
    },
    "required": ["name", "org", "member_type"],
    "additionalProperties": False,
}


def review_scope():
    return scope_for(current_user, REVIEW)


def create_member(data: dict, actor) -> Member:
    """Register a member in a unit the actor reviews; 身份证号 must be unique (it matches
    volunteer hours to the member)."""
    validate(MEMBER_SCHEMA, data)
    name = data["name"].strip()
    if not name:
        raise ValidationFailed([("/name", "此项为必填项", "required")])
    unit = org_unit(data["org"])
    if unit is None or not unit.active:
        raise ValidationFailed([("/org", "单位不存在或已停用", "unknown_org")])
    if not scope_for(actor, REVIEW).contains(unit.path):
        raise APIError(403, [("/org", "无权在该单位登记党员", "forbidden")])
    id_card = (data.get("id_card") or "").upper() or None
    if id_card and db.scalar(sa.select(Member.id).where(Member.id_card == id_card)):
        raise APIError(409, [("/id_card", "该身份证号已登记为党员", "duplicate")])
    member = Member(name=name, org_code=unit.code, org_path=unit.path, member_type=data["member_type"],
                    id_card=id_card, mobile=data.get("mobile") or None,
                    username=(data.get("username") or "").strip() or None,
                    posts=list(data.get("posts") or []), commitments=data.get("commitments") or None,
                    created_by=actor.username)
    db.add(member)
    db.commit()
    return member


def is_self(member: Member) -> bool:
    return bool(member.username) and getattr(current_user, "is_authenticated", False) and \
        current_user.username == member.username


def can_review(member: Member) -> bool:
    return review_scope().contains(member.org_path)


def visible_member(member_id: int) -> Member:
    """The member if the caller reviews their branch or is that member; 404 otherwise (never
    reveal that a member exists elsewhere)."""
    member = db.get(Member, member_id)
    if member is None or not (can_review(member) or is_self(member)):
        raise APIError(404)
    return member


def own_member() -> Member | None:
    if not getattr(current_user, "is_authenticated", False):
        return None
    return db.scalar(sa.select(Member).where(Member.username == current_user.username).order_by(Member.id))


def members_in(scope) -> sa.Select:
    """Members in the subtrees of ``scope`` (page it with ``paginate`` by ``Member.id``)."""
    return sa.select(Member).where(scope.clause(Member.org_path))


def member_json(member: Member) -> dict:
    """A member as staff of the branch see it: 身份证号 and mobile masked."""
    unit = org_unit(member.org_code)
    return {"id": member.id, "name": member.name, "org": member.org_code,
            "org_name": unit.name if unit else member.org_code, "member_type": member.member_type,
            "id_card": mask_id_card(member.id_card) if member.id_card else None,
            "mobile": mask_mobile(member.mobile) if member.mobile else None,
            "posts": member.posts, "commitments": member.commitments}
