"""Lists per jurisdiction: the effective list of a unit, matching a request, editing a draft
and publishing it as a new version.

A unit's effective list is the version in force of each list above it and its own: the
national batch, then county, street, community. Lower units add items; they never remove
what a higher list says (the national negative list holds everywhere).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import ValidationFailed
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import org_ancestors, org_unit
from fengqiao.sdk.web import parse_int
from fengqiao.sdk.workdays import today_local

from fengqiao_certificates.models import (
    DRAFT,
    KINDS,
    MAY_ISSUE,
    MUST_NOT_ISSUE,
    NATIONAL,
    PUBLISHED,
    CertificateItem,
    CertificateList,
)
from fengqiao_certificates.national import ensure_seeded

MAX_ITEMS = 300  # a list longer than this is a mistake, not a list


def jurisdiction_name(code: str) -> str:
    if code == NATIONAL:
        return "全国"
    unit = org_unit(code)
    return unit.name if unit else code


def chain(org_code: str) -> list[str]:
    """Jurisdictions whose lists apply to ``org_code``, widest first (national, county …)."""
    return [NATIONAL] + [u.code for u in org_ancestors(org_code)]


def in_force(org_code: str, on: date | None = None) -> CertificateList | None:
    """The published version of ``org_code``'s own list in force on ``on`` (default today)."""
    on = on or today_local()
    return db.scalar(
        sa.select(CertificateList)
        .where(CertificateList.org_code == org_code, CertificateList.status == PUBLISHED,
               sa.or_(CertificateList.effective_from.is_(None), CertificateList.effective_from <= on))
        .order_by(CertificateList.version.desc()).limit(1))


def effective_items(org_code: str, kind: str | None = None, on: date | None = None) -> list[CertificateItem]:
    """Every item in force for ``org_code``: inherited lists first, then its own."""
    ensure_seeded()
    items: list[CertificateItem] = []
    for code in chain(org_code):
        listing = in_force(code, on)
        if listing is not None:
            items.extend(i for i in listing.items if kind is None or i.kind == kind)
    return items


_NOISE = re.compile(r"[\s\u3000·、，,。.：:；;（）()\[\]【】“”\"'‘’《》<>!！?？\-—_/]+")
_AFFIXES = ("申请开具", "申请出具", "开具", "出具", "办理", "申请", "一份", "请")


def normalise(name: str) -> str:
    """A certificate name reduced to what identifies it: NFKC, no spaces or punctuation,
    no 开具/申请 verbs, no trailing 证明 — so 「开具 亲属关系证明」 matches 「亲属关系证明」."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name or ""))
    changed = True
    while changed:
        changed = False
        for affix in _AFFIXES:
            if text.startswith(affix) and len(text) > len(affix):
                text, changed = text[len(affix):], True
    for suffix in ("证明书", "证明信", "证明材料", "证明"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text.removesuffix("的")


def match(org_code: str, requested: str, item_id: int | None = None) -> CertificateItem | None:
    """The effective item a request is for: by id when it names one in force here, else by
    normalised name (exact first, then the longest item name contained in the request)."""
    items = effective_items(org_code)
    if item_id is not None:
        found = next((i for i in items if i.id == item_id), None)
        if found is not None:
            return found
    wanted = normalise(requested)
    if not wanted:
        return None
    exact = [i for i in items if normalise(i.name) == wanted]
    if exact:  # a negative entry wins over a positive one of the same name
        return sorted(exact, key=lambda i: i.kind != MUST_NOT_ISSUE)[0]
    contained = [i for i in items if len(normalise(i.name)) >= 2 and normalise(i.name) in wanted]
    return max(contained, key=lambda i: len(normalise(i.name))) if contained else None


# -- editing ---------------------------------------------------------------------------

def versions(org_code: str) -> list[CertificateList]:
    return list(db.scalars(sa.select(CertificateList).where(CertificateList.org_code == org_code)
                           .order_by(CertificateList.version.desc())))


def draft_of(org_code: str) -> CertificateList | None:
    return db.scalar(sa.select(CertificateList).where(CertificateList.org_code == org_code,
                                                      CertificateList.status == DRAFT))


def latest_published(org_code: str) -> CertificateList | None:
    return db.scalar(sa.select(CertificateList).where(CertificateList.org_code == org_code,
                                                      CertificateList.status == PUBLISHED)
                     .order_by(CertificateList.version.desc()).limit(1))


def open_draft(org_code: str, username: str | None) -> CertificateList:
    """The unit's draft, created from its latest published version when there is none."""
    ensure_seeded()
    draft = draft_of(org_code)
    if draft is not None:
        return draft
    base = latest_published(org_code)
    number = (db.scalar(sa.select(sa.func.max(CertificateList.version))
                        .where(CertificateList.org_code == org_code)) or 0) + 1
    draft = CertificateList(
        org_code=org_code, version=number, status=DRAFT, draft_of=org_code, created_at=utcnow(), created_by=username,
        title=base.title if base else f"{jurisdiction_name(org_code)}证明事项清单",
        source_document=base.source_document if base else "", effective_from=None)
    draft.items = [CertificateItem(**_copy(i)) for i in (base.items if base else [])]
    db.add(draft)
    db.flush()
    return draft


def _copy(item: CertificateItem) -> dict:
    return {k: getattr(item, k) for k in ("position", "kind", "name", "applicants", "materials",
                                          "time_limit_days", "template", "reason", "referral")}


def clean_item(data: dict) -> dict:
    """Validate one item's fields (Chinese message per field) and return them tidied."""
    errors: list[tuple[str, str, str]] = []

    def text(key: str, limit: int) -> str:
        value = str(data.get(key) or "").strip()
        if len(value) > limit:
            errors.append((f"/{key}", f"不能超过 {limit} 个字", "maxLength"))
        return value

    kind = str(data.get("kind") or "").strip()
    if kind not in KINDS:
        errors.append(("/kind", "请选择“可以出具”或“不应出具”", "enum"))
    name = text("name", 100)
    if not name:
        errors.append(("/name", "请填写证明名称", "required"))
    out = {"kind": kind, "name": name, "applicants": text("applicants", 200),
           "materials": text("materials", 2000), "template": text("template", 4000),
           "reason": text("reason", 1000), "referral": text("referral", 1000), "time_limit_days": None}
    raw = str(data.get("time_limit_days") if data.get("time_limit_days") is not None else "").strip()
    if kind == MAY_ISSUE:
        if raw == "":
            errors.append(("/time_limit_days", "请填写办理时限（当场出具填 0）", "required"))
        elif parse_int(raw, maximum=60) is None:
            errors.append(("/time_limit_days", "办理时限应为 0 至 60 之间的整数（工作日）", "type"))
        else:
            out["time_limit_days"] = parse_int(raw)
    elif kind == MUST_NOT_ISSUE and not out["referral"]:
        errors.append(("/referral", "请填写替代办理途径（由哪个部门负责，或告知承诺/部门核查）", "required"))
    if errors:
        raise ValidationFailed(errors)
    return out


def add_item(draft: CertificateList, data: dict) -> CertificateItem:
    _editable(draft)
    fields = clean_item(data)
    if any(normalise(i.name) == normalise(fields["name"]) for i in draft.items):
        raise ValidationFailed([("/name", "清单中已有同名证明事项", "duplicate")])
    if len(draft.items) >= MAX_ITEMS:
        raise ValidationFailed([("/name", f"一份清单最多 {MAX_ITEMS} 项", "maxItems")])
    item = CertificateItem(position=max((i.position for i in draft.items), default=-1) + 1, **fields)
    draft.items.append(item)
    db.flush()
    return item


def update_item(draft: CertificateList, item_id: int, data: dict) -> CertificateItem:
    _editable(draft)
    item = next((i for i in draft.items if i.id == item_id), None)
    if item is None:
        raise ValidationFailed([("/id", "该事项不在草稿中", "not_found")])
    fields = clean_item(data)
    if any(i.id != item.id and normalise(i.name) == normalise(fields["name"]) for i in draft.items):
        raise ValidationFailed([("/name", "清单中已有同名证明事项", "duplicate")])
    for key, value in fields.items():
        setattr(item, key, value)
    db.flush()
    return item


def remove_item(draft: CertificateList, item_id: int) -> None:
    _editable(draft)
    item = next((i for i in draft.items if i.id == item_id), None)
    if item is None:
        raise ValidationFailed([("/id", "该事项不在草稿中", "not_found")])
    draft.items.remove(item)
    db.flush()


def publish(draft: CertificateList, username: str | None, effective_from: date | None = None,
            source_document: str | None = None, title: str | None = None) -> CertificateList:
    """Freeze the draft as the unit's newest version (in force from ``effective_from``)."""
    _editable(draft)
    errors = []
    if not draft.items:
        errors.append(("/items", "清单为空，至少添加一项后才能发布", "minItems"))
    if source_document is not None:
        if len(source_document.strip()) > 200:
            errors.append(("/source_document", "不能超过 200 个字", "maxLength"))
        draft.source_document = source_document.strip()[:200]
    if title is not None:
        if not title.strip() or len(title.strip()) > 200:
            errors.append(("/title", "请填写清单名称（200 字以内）", "required"))
        draft.title = title.strip()[:200]
    if errors:
        raise ValidationFailed(errors)
    draft.status, draft.draft_of = PUBLISHED, None
    draft.effective_from = effective_from or today_local()
    draft.published_at = utcnow()
    draft.published_by = username
    db.flush()
    return draft


def _editable(listing: CertificateList) -> None:
    if listing.status != DRAFT:
        raise ValidationFailed([("", "已发布的清单版本不能修改，请先新建草稿", "published")])


@dataclass
class Suggestion:
    """A street's decision to list an item it allowed (goes to the next draft)."""

    org_code: str
    name: str
    time_limit_days: int


def suggest_item(suggestion: Suggestion, username: str | None) -> CertificateItem | None:
    """Add an allowed, unlisted certificate to the street's draft (once per name)."""
    draft = open_draft(suggestion.org_code, username)
    if any(normalise(i.name) == normalise(suggestion.name) for i in draft.items):
        return None
    return add_item(draft, {"kind": MAY_ISSUE, "name": suggestion.name,
                            "time_limit_days": suggestion.time_limit_days,
                            "applicants": "本辖区居民", "materials": "居民身份证"})
