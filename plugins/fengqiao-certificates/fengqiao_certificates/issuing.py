"""Issuing, rendering, verifying and revoking certificates.

Serials read ``ZM<unit code>-<year>-<sequence>``: gap-free per issuing unit and year, unique
under concurrency (the ``(org_code, year, sequence)`` key decides; a loser retries with the
next number). One certificate per case: issuing twice returns the first.

Serials can be walked, so they verify nothing: the QR code and the public verify routes
take the certificate's random ``verify_code`` (16 characters, 80 bits, no 0/O/1/I), and
what they show is masked (:func:`public_view`).
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.cases import case_data, case_info
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.events import plugin_signal, send_signal
from fengqiao.sdk.files import Certificate, certificate_pdf
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.privacy import mask_id_card, mask_name, mask_text
from fengqiao.sdk.web import external_url
from fengqiao.sdk.workdays import today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_certificates.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CertificateItem,
    CertificateRequest,
    IssuedCertificate,
)

DEFAULT_TEMPLATE = "经核查，{姓名}申请开具的「{证明}」所述情况属实。\n特此证明。"
ATTEMPTS = 20
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
issued_signal = plugin_signal("certificates.issued")  # kwargs: serial, case_number, org, item


def by_serial(serial: str) -> IssuedCertificate | None:
    return db.scalar(sa.select(IssuedCertificate).where(IssuedCertificate.serial == (serial or "").strip()))


def normalise_code(typed: str | None) -> str | None:
    """A code as typed from the paper (``abcd-efgh …``) in stored form, or None when it
    cannot be one (a serial, say): no query is made for it."""
    code = re.sub(r"[\s\-－—]", "", typed or "").upper()
    return code if _CODE.fullmatch(code) else None


def by_verify_code(typed: str | None) -> IssuedCertificate | None:
    code = normalise_code(typed)
    if code is None:
        return None
    return db.scalar(sa.select(IssuedCertificate).where(IssuedCertificate.verify_code == code))


def grouped(code: str) -> str:
    """``ABCD-EFGH-JKLM-NPQR``: how the code is printed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def by_case(case_number: str) -> IssuedCertificate | None:
    return db.scalar(sa.select(IssuedCertificate).where(IssuedCertificate.case_number == case_number))


def fill_template(template: str, values: dict[str, str]) -> str:
    """Replace ``{姓名}``-style placeholders; unknown ones stay as typed (never an error)."""
    text = template or DEFAULT_TEMPLATE
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def issue(case_number: str, actor: str | None = None) -> IssuedCertificate:
    """Issue the certificate of an approved request (idempotent per case)."""
    existing = by_case(case_number)
    if existing is not None:
        return existing
    info = case_info(case_number)
    if info is None:
        raise APIError(404, [("", "未找到该申请", "not_found")])
    data = case_data(case_number) or {}
    request = db.scalar(sa.select(CertificateRequest).where(CertificateRequest.case_number == case_number))
    item = db.get(CertificateItem, request.item_id) if request and request.item_id else None
    unit = org_unit(info["org"])
    title = (item.name if item else None) or str(data.get("certificate") or "证明")
    name = str(data.get("applicant_name") or "")
    purpose = str(data.get("purpose") or "")
    issuer = unit.name if unit else info["org"]
    body = fill_template(item.template if item else "", {"姓名": name, "证明": title, "用途": purpose,
                                                         "单位": issuer})
    db.commit()  # end the read transaction so the write lock comes first in the next one
    for _ in range(ATTEMPTS):
        write_lock()
        year = today_local().year
        last = db.scalar(sa.select(sa.func.max(IssuedCertificate.sequence))
                         .where(IssuedCertificate.org_code == info["org"], IssuedCertificate.year == year)) or 0
        cert = IssuedCertificate(
            serial=f"ZM{info['org']}-{year}-{last + 1:06d}",
            case_number=case_number, org_code=info["org"],
            year=year, sequence=last + 1, issuer_name=issuer[:100], item_name=title[:100], holder_name=name[:50],
            holder_id_card=str(data.get("applicant_id_card") or "")[:18], purpose=purpose[:200], body=body,
            issued_on=today_local(), issued_at=utcnow(), issued_by=actor)
        db.add(cert)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            existing = by_case(case_number)
            if existing is not None:  # a second delivery of the same approval won the race
                return existing
            continue
        send_signal(issued_signal, serial=cert.serial, case_number=case_number, org=cert.org_code,
                    item=cert.item_name)
        return cert
    raise APIError(409, [("", "证明编号分配冲突，请稍后重试", "serial_conflict")])


def verify_url(cert: IssuedCertificate) -> str:
    return external_url("p_certificates.verify_page", code=cert.verify_code)


def pdf_bytes(cert: IssuedCertificate) -> bytes:
    return certificate_pdf(Certificate(
        title=cert.item_name, serial=cert.serial, issuer=cert.issuer_name, issued_on=cert.issued_on,
        verify_url=verify_url(cert),
        rows=[("姓名", cert.holder_name), ("身份证号", mask_id_card(cert.holder_id_card) if cert.holder_id_card else "—"),
              ("用途", cert.purpose or "—")],
        note=f"扫描二维码或访问下方网址可核验本证明真伪（核验码 {grouped(cert.verify_code)}）。",
        body=cert.body, revoked=cert.revoked_at is not None))


def masked(text: str | None, cert: IssuedCertificate) -> str | None:
    """Free text shown publicly: numbers masked (``mask_text``), the holder's name too."""
    if text is None:
        return None
    text = mask_text(text)
    name = (cert.holder_name or "").strip()
    return text.replace(name, mask_name(name)) if len(name) >= 2 else text


def public_view(cert: IssuedCertificate) -> dict:
    """What anyone holding the verification code may learn: validity, type, date, issuer and
    a masked holder; the title and the revocation reason are free text, masked too."""
    return {
        "valid": cert.revoked_at is None,
        "name": masked(cert.item_name, cert),
        "holder": mask_name(cert.holder_name),
        "serial": cert.serial,
        "issued_at": cert.issued_at.isoformat(),
        "issued_on": cert.issued_on.isoformat(),
        "issuer": cert.issuer_name,
        "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
        "revoke_reason": masked(cert.revoke_reason, cert),
    }


def revoke(cert: IssuedCertificate, reason: str, actor: str | None) -> IssuedCertificate:
    """Revoke once, with a reason (recorded with who and when)."""
    from fengqiao.sdk.errors import ValidationFailed

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("/reason", "请填写撤销原因", "required")])
    if len(reason) > 200:
        raise ValidationFailed([("/reason", "撤销原因不能超过 200 个字", "maxLength")])
    done = db.execute(sa.update(IssuedCertificate)
                      .where(IssuedCertificate.id == cert.id, IssuedCertificate.revoked_at.is_(None))
                      .values(revoked_at=utcnow(), revoked_by=actor, revoke_reason=reason)
                      .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.rollback()
        raise APIError(409, [("", "该证明已撤销", "already_revoked")])
    db.commit()
    db.refresh(cert)
    return cert


def issued_on_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
