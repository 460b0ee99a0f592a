"""Validate a submission against its pinned version and open a case, in one transaction."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from fengqiao import signals
from fengqiao.accounts.roles import permissions_for
from fengqiao.cases import sla, steps
from fengqiao.cases.case_types import case_type
from fengqiao.cases.creation import NewCase, open_case
from fengqiao.cases.jurisdiction import applies_to
from fengqiao.db import current_session, db, utcnow
from fengqiao.errors import ValidationFailed
from fengqiao.forms.normalise import normalise
from fengqiao.forms.schema_tools import attachment_pointers
from fengqiao.forms.store import PublishedVersion
from fengqiao.models import Attachment, Case, FormVersion, OrgUnit, Submission
from fengqiao.validation import SchemaValidator, problems, validator_for


@dataclass
class SubmitResult:
    case_number: str | None  # None (and no tracking code, no case) for an intake-only form
    tracking_code: str | None
    case_id: int | None
    submission_id: int
    replayed: bool = False  # an Idempotency-Key seen before: the earlier case is returned


def version_validator(version: FormVersion | PublishedVersion) -> SchemaValidator:
    """One compiled validator per published version, kept for the life of the app."""
    cache = current_app.extensions.setdefault("fengqiao.validators", {})
    validator = cache.get(version.id)
    if validator is None:
        validator = cache[version.id] = validator_for(version.definition["schema"])
    return validator


def clean(version: FormVersion | PublishedVersion, data: Any) -> dict:
    """Normalised data, or ValidationFailed with one Chinese message per field."""
    definition = version.definition
    schema = definition["schema"]
    trim = set(definition.get("ui", {}).get("trim", []))
    cleaned = normalise(data, schema, trim) if isinstance(data, dict) else data
    found = problems(version_validator(version), cleaned)
    if found:
        raise ValidationFailed(found)
    return cleaned


def _claim_attachments(version: FormVersion, data: dict) -> list[Attachment]:
    ids = [(ptr, value) for ptr, value in attachment_pointers(version.definition["schema"], data)]
    if not ids:
        return []
    found = {
        a.id: a
        for a in db.scalars(sa.select(Attachment).where(Attachment.id.in_([v for _, v in ids])))
    }
    bad = [(ptr, "附件无效，请重新上传", "attachment") for ptr, v in ids
           if v not in found or found[v].submission_id is not None]
    if bad:
        raise ValidationFailed(bad)
    return [found[v] for _, v in ids]


# The busiest path writes through Core tables: no ORM unit-of-work or bulk bookkeeping.
SUBMISSIONS, UNITS = Submission.__table__, OrgUnit.__table__
STAFF_PERMISSIONS = frozenset({"cases.report", "cases.act", "cases.inbound"})  # may backdate the clock


NO_ORG = ("/org", "请选择您所在的社区（村），以便由属地受理", "org_required")


RESIDENT_LEVELS = ("community", "grid", "building")  # where a resident's own case may land


def address_fields(definition: dict | None) -> list[tuple[str, ...]]:
    """Where a definition has ``address`` widgets: paths of object keys (``ui.widgets``
    order), never inside a repeatable group (which row would decide?)."""
    widgets = ((definition or {}).get("ui") or {}).get("widgets") or {}
    return [tuple(path.split(".")) for path, widget in widgets.items()
            if widget == "address" and isinstance(path, str) and "[]" not in path]


def _address_unit(definition: dict | None, data: dict | None):
    """The unit answering for the first standard address the data names in an ``address``
    field (through the address provider: a plugin), when that unit is an active territorial
    one inside the case type's jurisdiction; else None (the usual rules decide)."""
    paths = address_fields(definition)
    if not paths or not isinstance(data, dict):
        return None
    from fengqiao.addresses import resolve_address

    ctype = case_type(definition.get("case_type")) if definition.get("opens_case") is not False else None
    for path in paths:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        hit = resolve_address(value) if isinstance(value, str) and value.strip() else None
        if hit is None:
            continue
        unit = db.execute(
            sa.select(UNITS.c.id, UNITS.c.code, UNITS.c.path, UNITS.c.active, UNITS.c.kind, UNITS.c.level)
            .where(UNITS.c.code == hit.org_code)
        ).first()
        if unit is not None and unit.active and unit.kind == "territorial" and (
                ctype is None or not ctype.org or applies_to(ctype, unit)):
            return unit
    return None


def _org_for(org_code: str | None, user, definition: dict | None = None, data: dict | None = None):
    """The unit (id, code, path) that owns the case: the one asked for, else the grid of a
    standard address picked in an ``address`` field, else a signed-in staff member's deepest
    unit, else the form's ``accepting_unit``; a resident naming no unit of a form without one
    is refused (never a silent landing at the county root)."""
    if org_code:
        unit = db.execute(
            sa.select(UNITS.c.id, UNITS.c.code, UNITS.c.path, UNITS.c.active, UNITS.c.kind, UNITS.c.level)
            .where(UNITS.c.code == org_code)
        ).first()
        if unit is None or not unit.active or unit.kind != "territorial":
            raise ValidationFailed([("/org", f"所选地区 {org_code} 不存在或已停用", "unknown_org")])
        staff = user is not None and getattr(user, "is_authenticated", False) and user.memberships
        if not staff and unit.level not in RESIDENT_LEVELS:  # a resident files where they live
            raise ValidationFailed([("/org", "请选择您所在的社区（村），以便由属地受理", "org_level")])
        return unit
    if (unit := _address_unit(definition, data)) is not None:
        return unit
    if user is not None and getattr(user, "is_authenticated", False) and user.memberships:
        return min(user.memberships, key=lambda m: -m.org.depth).org
    from fengqiao.cases.routing import accepting_unit

    unit = accepting_unit(definition)
    if unit is None:
        raise ValidationFailed([NO_ORG])
    return unit


def _outside(code: str) -> tuple[str, str, str]:
    """The problem of a submission for a unit outside its case type's jurisdiction."""
    name = db.scalar(sa.select(UNITS.c.name).where(UNITS.c.code == code)) or code
    return ("/org", f"该事项类型仅适用于{name}及其下级单位", "org_jurisdiction")


def _deadline(ctype, data: dict, now, org_path: str):
    """The case's deadline from its type's SLA (None when the type sets no limit); the
    calendar is the unit's jurisdiction's (its path names the units root → leaf)."""
    limit = ctype.limit_for(data)
    return None if limit is None else sla.deadline_for(now, limit, 0, org_path)


def mobile_paths(schema: dict, path: tuple = ()) -> list[tuple]:
    """Where a schema holds ``cn-mobile`` fields (top level and nested objects)."""
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("format") == "cn-mobile":
            found.append((*path, name))
        elif prop.get("type") == "object":
            found += mobile_paths(prop, (*path, name))
    return found


def phone_tail(version, data: dict) -> str:
    """The last four digits of the first mobile number given (staff search by them)."""
    cache = current_app.extensions.setdefault("fengqiao.mobile_paths", {})
    paths = cache.get(version.id)
    if paths is None:
        paths = cache[version.id] = mobile_paths(version.definition["schema"])
    for path in paths:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) >= 4:
            return value[-4:]
    return ""


def _title(version: FormVersion, data: dict) -> str:
    definition = version.definition
    field = definition.get("title_field")
    value = data.get(field) if field else None
    return (str(value) if value else definition["title"])[:200]


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` as the submission stores it: the key, whose it is, and what
    was asked. Build it with :func:`idempotency`."""

    key: str
    scope: str
    digest: str


def idempotency(key: str, form_key: str, user, client: str | None, data: Any,
                org_code: str | None) -> Idempotency:
    """The key scoped to its caller and form. The caller is the signed-in user, else the
    anonymous ``client`` (its address: one household or kiosk behind one address shares
    it, which the request hash below keeps harmless). The scope is an HMAC under the
    secret key, so submissions keep no address in clear."""
    caller = f"user:{user.id}" if getattr(user, "is_authenticated", False) else f"anon:{client or ''}"
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    scope = hmac.new(secret, f"{form_key}\0{caller}".encode(), hashlib.sha256).hexdigest()
    asked = json.dumps({"data": data, "org": org_code}, sort_keys=True, ensure_ascii=False)
    return Idempotency(key, scope, hashlib.sha256(asked.encode()).hexdigest())


MISMATCH = ("/Idempotency-Key", "该 Idempotency-Key 已用于内容不同的另一次提交，新的提交请使用新的 Idempotency-Key",
            "idempotency_mismatch")


def _earlier(session, key: Idempotency) -> SubmitResult | None:
    """The case this caller opened with this key on this form; 422 when it asked otherwise."""
    row = session.execute(
        sa.select(Case.number, Case.tracking_code, Case.id, Submission.id, Submission.idempotency_hash)
        .join(Case, Submission.case_id == Case.id)
        .where(Submission.idempotency_scope == key.scope, Submission.idempotency_key == key.key)
    ).first()
    if row is None:
        return None
    if not hmac.compare_digest(row.idempotency_hash or "", key.digest):
        raise ValidationFailed([MISMATCH])
    return SubmitResult(*row[:4], replayed=True)


def submit(
    version: FormVersion | PublishedVersion,
    data: Any,
    user=None,
    channel: str = "web",
    org_code: str | None = None,
    idempotency_key: Idempotency | None = None,
) -> SubmitResult:
    """Validate, store the submission and open its case in the caller's transaction, which
    the request, command or job commits; ``submission_received`` and ``case_created`` go out
    after that commit.

    Everything is checked before anything is written, so a refused submission leaves the
    transaction as it was. With an Idempotency-Key the writes run in a SAVEPOINT, so a
    concurrent request with the same key that wins the race is answered instead.
    """
    session = current_session()
    if idempotency_key and (earlier := _earlier(session, idempotency_key)):
        return earlier
    cleaned = clean(version, data)
    attachments = _claim_attachments(version, cleaned)
    org = _org_for(org_code, user, version.definition, cleaned)
    submitter = user if user is not None and getattr(user, "is_authenticated", False) else None
    if version.definition.get("opens_case") is False:  # intake-only: the plugin keeps the record
        return _store_intake(session, version, cleaned, org, submitter, channel, idempotency_key, attachments)
    ctype = case_type(version.definition.get("case_type"))
    if ctype.org and not applies_to(ctype, org):
        raise ValidationFailed([_outside(ctype.org)])
    new = _new_case(ctype, version, cleaned, org, submitter, channel, idempotency_key)
    try:
        with session.begin_nested() if idempotency_key else contextlib.nullcontext():
            opened = open_case(session, new)
            _attach(session, attachments, opened.submission_id)
    except IntegrityError:
        if idempotency_key and (earlier := _earlier(session, idempotency_key)):
            return earlier  # a concurrent request with the same key won the race
        raise
    form_key = version.definition["key"]
    signals.send(signals.submission_received, form_key=form_key, form_version=version.number,
                 submission_id=opened.submission_id, case_number=opened.number, org=org.code, channel=channel)
    signals.send(signals.case_created, case_number=opened.number, case_type=ctype.key, org=org.code,
                 form_key=form_key)
    return SubmitResult(opened.number, opened.tracking_code, opened.case_id, opened.submission_id)


def _new_case(ctype, version, cleaned: dict, org, submitter, channel: str, key: Idempotency | None) -> NewCase:
    """The columns of the case, its submission and its ``submit`` event."""
    now = utcnow()
    staff = submitter is not None and any(permissions_for(m.role) & STAFF_PERMISSIONS for m in submitter.memberships)
    clock = steps.new_clock(ctype, cleaned, now, org.path, trusted=staff)  # the 12345 受理时间, keyed in by staff
    actor = submitter.id if submitter else None
    return NewCase(
        ctype.prefix,
        case=dict(type=ctype.key, title=_title(version, cleaned), state=ctype.initial_state, org_id=org.id,
                  form_key=version.definition["key"], form_version=version.number, data=cleaned, version=1,
                  created_at=now, workflow_version=ctype.version, priority=ctype.tier_for(cleaned),
                  phone_tail=phone_tail(version, cleaned), **clock),
        submission=dict(form_version_id=version.id, data=cleaned, channel=channel, submitted_by_id=actor,
                        created_at=now, **_remembered(key)),
        event=dict(at=now, actor_id=actor, action="submit", from_state=None, to_state=ctype.initial_state,
                   comment="", changes={}, internal=False),
    )


def _remembered(key: Idempotency | None) -> dict:
    """The submission's idempotency columns."""
    if key is None:
        return {}
    return dict(idempotency_key=key.key, idempotency_scope=key.scope, idempotency_hash=key.digest)


def _attach(session, attachments: list[Attachment], submission_id: int) -> None:
    if attachments:
        session.execute(sa.update(Attachment).where(Attachment.id.in_([a.id for a in attachments]))
                        .values(submission_id=submission_id))


# --- Intake-only forms ("opens_case": false): a plugin keeps its own record, no case opens ---


def _store_intake(session, version: FormVersion | PublishedVersion, cleaned: dict, org, submitter, channel: str,
                  key: Idempotency | None, attachments: list[Attachment]) -> SubmitResult:
    """Store the submission without a case and announce it (``submission_received`` with
    ``case_number`` None and the accepting unit's ``org``): nothing lands in ``/queues``."""
    if key is not None and (earlier := _earlier_intake(key)):
        return earlier
    try:
        with session.begin_nested() if key else contextlib.nullcontext():
            submission_id = session.execute(
                SUBMISSIONS.insert().returning(SUBMISSIONS.c.id),
                dict(form_version_id=version.id, case_id=None, data=cleaned, channel=channel,
                     submitted_by_id=submitter.id if submitter else None, created_at=utcnow(), **_remembered(key)),
            ).scalar_one()
            _attach(session, attachments, submission_id)
    except IntegrityError:
        if key is not None and (earlier := _earlier_intake(key)):
            return earlier  # a concurrent request with the same key won the race
        raise
    signals.send(signals.submission_received, form_key=version.definition["key"], form_version=version.number,
                 submission_id=submission_id, case_number=None, org=org.code, channel=channel)
    return SubmitResult(None, None, None, submission_id)


def _earlier_intake(key: Idempotency) -> SubmitResult | None:
    """The intake submission this caller made with this key; 422 when it asked otherwise."""
    row = db.execute(sa.select(Submission.id, Submission.idempotency_hash)
                     .where(Submission.idempotency_scope == key.scope, Submission.idempotency_key == key.key)).first()
    if row is None:
        return None
    if not hmac.compare_digest(row.idempotency_hash or "", key.digest):
        raise ValidationFailed([MISMATCH])
    return SubmitResult(None, None, None, row.id, replayed=True)
