"""Every account change and every API token lands in the append-only audit log.

One SQLAlchemy ``before_flush`` hook sees each change whatever made it (the admin pages, the
API, ``fengqiao users create``, the demo loader, a shell): accounts created, roles granted,
changed or revoked, accounts disabled or enabled, passwords and second factors changed, tokens
issued and revoked. The rows join the same flush, so they commit (or roll back) with the
change. The actor is the signed-in user (or the token's owner when a token is exchanged for a
password); ``system`` otherwise, with the command and the operating-system user when a CLI
command set ``g.audit_context``. Rows name the account and unit, never a password or token.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from sqlalchemy.orm import Session

from fengqiao.models import ApiToken, AuditEntry, Membership, OrgUnit, User


def _actor() -> User | None:
    if not has_request_context():
        return None
    user = g.get("_login_user")  # never load the user inside a flush
    return user if isinstance(user, User) else None


def _org(session: Session, org: OrgUnit | None, org_id: int | None) -> OrgUnit | None:
    return org if org is not None else (session.get(OrgUnit, org_id) if org_id else None)


def _home(user: User) -> OrgUnit | None:
    """The unit an account's rows belong to (its first membership): that unit's auditors see them."""
    return user.memberships[0].org if user.memberships else None


def entry(session: Session, action: str, user: User, org: OrgUnit | None = None, *,
          record: str | None = None, detail: dict | None = None, actor: User | None = None) -> AuditEntry:
    """Add one account row to ``session`` (committed with the caller's transaction)."""
    actor = actor or _actor()
    detail = dict(detail or {})
    if has_app_context() and g.get("audit_context"):
        detail.update(g.audit_context)
    addr = agent = ""
    if has_request_context():
        addr, agent = (request.remote_addr or "")[:64], (request.user_agent.string or "")[:300]
    org = org if org is not None else _home(user)
    row = AuditEntry(actor_id=actor.id if actor else None, actor_name=actor.username if actor else "system",
                     action=action, outcome="ok", record=(record or f"user:{user.username}")[:200],
                     org_id=org.id if org else None, detail=detail, client_addr=addr, user_agent=agent)
    session.add(row)
    return row


def _membership_detail(session: Session, membership: Membership) -> tuple[OrgUnit | None, dict]:
    org = _org(session, membership.org, membership.org_id)
    return org, {"role": membership.role, "org": org.code if org else None}


def _user_of(session: Session, membership: Membership) -> User | None:
    return membership.user or (session.get(User, membership.user_id) if membership.user_id else None)


def _token_ref(token: ApiToken) -> str:
    """``token:`` and the digest's first 8 hex digits: pairs an issue with its revocation,
    useless for signing in."""
    return f"token:{(token.digest or '')[:8]}"


def _changed(obj, name: str) -> tuple[object, object] | None:
    """(before, after) when attribute ``name`` changed in this flush, else None."""
    history = sa.inspect(obj).attrs[name].history
    if not history.has_changes():
        return None
    return (history.deleted[0] if history.deleted else None), (history.added[0] if history.added else None)


@sa.event.listens_for(Session, "before_flush")
def _audit_account_changes(session: Session, _context, _instances) -> None:
    seen: set[int] = set()  # memberships already written (removed through the collection)

    def role_revoked(user: User, membership: Membership) -> None:
        if id(membership) in seen:
            return
        seen.add(id(membership))
        org, detail = _membership_detail(session, membership)
        entry(session, "account.role_revoke", user, org, detail=detail)

    for obj in list(session.new):
        if isinstance(obj, User):
            entry(session, "account.create", obj, detail={"roles": [
                _membership_detail(session, m)[1] for m in obj.memberships]})
        elif isinstance(obj, Membership):
            user = _user_of(session, obj)
            if user is not None and user not in session.new:
                org, detail = _membership_detail(session, obj)
                entry(session, "account.role_grant", user, org, detail=detail)
        elif isinstance(obj, ApiToken):
            owner = obj.user or session.get(User, obj.user_id)
            if owner is not None:
                entry(session, "token.issue", owner, record=_token_ref(obj),
                      detail={"expires_at": obj.expires_at.isoformat() if obj.expires_at else None},
                      actor=_actor() or owner)

    for obj in list(session.dirty):
        if isinstance(obj, Membership):
            role, org_change = _changed(obj, "role"), _changed(obj, "org_id") or _changed(obj, "org")
            user = _user_of(session, obj)
            if (role or org_change) and user is not None:
                org, detail = _membership_detail(session, obj)
                before_org = org_change[0] if org_change else org
                if isinstance(before_org, int):
                    before_org = session.get(OrgUnit, before_org)
                detail["before"] = {"role": role[0] if role else obj.role,
                                    "org": before_org.code if isinstance(before_org, OrgUnit) else None}
                entry(session, "account.role_change", user, org, detail=detail)
        elif isinstance(obj, User):
            for membership in sa.inspect(obj).attrs.memberships.history.deleted:
                role_revoked(obj, membership)
            active = _changed(obj, "active")
            if active and bool(active[0]) != bool(active[1]):
                entry(session, "account.enable" if active[1] else "account.disable", obj)
            if _changed(obj, "password_changed_at"):
                entry(session, "account.password", obj)
            totp = _changed(obj, "totp_enabled_at")
            if totp and (totp[0] is None) != (totp[1] is None):
                entry(session, "account.totp_on" if totp[1] else "account.totp_off", obj)
        elif isinstance(obj, ApiToken):
            revoked = _changed(obj, "revoked_at")
            if revoked and revoked[0] is None and revoked[1] is not None:
                owner = obj.user or session.get(User, obj.user_id)
                if owner is not None:
                    entry(session, "token.revoke", owner, record=_token_ref(obj))

    for obj in list(session.deleted):
        if isinstance(obj, Membership):
            user = _user_of(session, obj)
            if user is not None and user not in session.deleted:
                role_revoked(user, obj)
        elif isinstance(obj, User):
            entry(session, "account.delete", obj)
