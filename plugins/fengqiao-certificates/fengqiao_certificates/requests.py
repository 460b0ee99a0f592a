"""Routing a ``certificate-request`` case by the list, and following it to its end.

``case_created``: match the requested certificate against the unit's effective list, then
take the system transition — refuse with the referral, start the item's clock, or send it to
the street. ``case_transitioned``: an approval issues the certificate; a refusal is counted.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fengqiao.sdk.cases import case_data, perform_action
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow
from sqlalchemy.exc import IntegrityError

from fengqiao_certificates.issuing import issue
from fengqiao_certificates.lists import jurisdiction_name, match
from fengqiao_certificates.models import MAY_ISSUE, MUST_NOT_ISSUE, CertificateRequest

log = logging.getLogger(__name__)
FORM_KEY = "certificate-request"
REFUSED_BY = {"refuse_listed": "listed", "street_refuse": "street", "refuse": "staff"}


def refusal_text(requested: str, item) -> str:
    listing = item.list
    where = f"《{listing.title}》" if listing.title else f"{jurisdiction_name(listing.org_code)}证明事项清单"
    reason = f"{item.reason.rstrip('。')}。" if item.reason else ""
    return (f"您申请的「{requested}」属于{where}中社区（村）不应出具的证明事项（{item.name}），"
            f"{reason}请按以下途径办理：{item.referral}")


def on_case_created(sender, **kwargs) -> None:
    if kwargs.get("form_key") != FORM_KEY:
        return
    number, org = kwargs["case_number"], kwargs["org"]
    if db.scalar(sa.select(CertificateRequest.id).where(CertificateRequest.case_number == number)):
        return  # signals may be delivered twice
    data = case_data(number) or {}
    requested = str(data.get("certificate") or "").strip()
    item_id = data.get("item_id") if isinstance(data.get("item_id"), int) else None
    item = match(org, requested, item_id)
    row = CertificateRequest(case_number=number, org_code=org, requested=requested[:100],
                             demanding_agency=str(data.get("demanding_agency") or "").strip()[:100],
                             item_id=item.id if item else None, item_name=item.name if item else None,
                             match=item.kind if item else "unlisted", outcome="pending", created_at=utcnow())
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return
    try:
        if item is not None and item.kind == MUST_NOT_ISSUE:
            perform_action(number, "refuse_listed", fields={"reply": refusal_text(requested, item)[:1000]})
        elif item is not None and item.kind == MAY_ISSUE:
            perform_action(number, "accept_listed", deadline_days=item.time_limit_days or 0)
        else:
            perform_action(number, "refer_street")
        db.commit()  # a receiver runs after the request's commit: it commits its own work
    except APIError as exc:  # someone acted on the case first: their decision stands
        db.rollback()
        log.info("certificate request %s not routed: %s", number, exc)


def on_case_transitioned(sender, **kwargs) -> None:
    number, action = kwargs.get("case_number"), kwargs.get("action")
    row = db.scalar(sa.select(CertificateRequest).where(CertificateRequest.case_number == number))
    if row is None:
        return
    if action == "approve":
        issue(number, kwargs.get("actor"))
        row = db.scalar(sa.select(CertificateRequest).where(CertificateRequest.case_number == number))
        row.outcome, row.closed_at = "issued", utcnow()
        db.commit()
    elif action in REFUSED_BY and kwargs.get("to_state") == "refused":
        row.outcome, row.refused_by, row.closed_at = "refused", REFUSED_BY[action], utcnow()
        db.commit()
    elif action == "reopen":  # the resident disputes the outcome: the street rules again
        row.outcome, row.refused_by, row.closed_at = "pending", None, None
        db.commit()
