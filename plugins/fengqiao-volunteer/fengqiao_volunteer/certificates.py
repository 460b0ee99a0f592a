"""Service-record certificates (志愿服务记录证明): issued once per request with an
unguessable serial, rendered as a PDF with the core's ``certificate_pdf`` and verified at
the public page ``/p/volunteer/verify/<serial>`` that its QR code points to."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from fengqiao.sdk.files import Certificate, certificate_pdf
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.privacy import mask_id_card
from fengqiao.sdk.web import external_url
from fengqiao.sdk.workdays import LOCAL_TZ, today_local

from fengqiao_volunteer.hours import hours_by_year, total_hours
from fengqiao_volunteer.models import Activity, CertificateRecord, HoursEntry, Volunteer
from fengqiao_volunteer.rules import fmt_hours, settings, stars_for

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_serial() -> str:
    return f"ZY{today_local().year}-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def issuer_of(volunteer: Volunteer) -> str:
    unit = org_unit(volunteer.org)
    return f"{unit.name if unit else volunteer.org}{settings()['issuer_suffix']}"


def issue(volunteer: Volunteer, actor: str | None) -> CertificateRecord:
    record = CertificateRecord(serial=new_serial(), volunteer_id=volunteer.id,
                               total_hours=total_hours(volunteer.id), issuer=issuer_of(volunteer),
                               issued_by=actor)
    db.add(record)
    db.commit()
    return record


def by_serial(serial: str) -> CertificateRecord | None:
    return db.scalar(sa.select(CertificateRecord).where(CertificateRecord.serial == serial.strip().upper()))


def pdf_for(record: CertificateRecord) -> bytes:
    """The certificate as it stood when issued (entries confirmed up to that moment)."""
    volunteer = db.get(Volunteer, record.volunteer_id)
    rows = db.execute(
        sa.select(HoursEntry.served_on, Activity.title, sa.func.sum(HoursEntry.hours))
        .outerjoin(Activity, Activity.id == HoursEntry.activity_id)
        .where(HoursEntry.volunteer_id == volunteer.id, HoursEntry.confirmed_at <= record.issued_at)
        .group_by(HoursEntry.served_on, Activity.title).order_by(HoursEntry.served_on).limit(60)
    ).all()
    table = [["服务日期", "活动", "时长（小时）"]] + [
        [str(day), title or "—", fmt_hours(hours)] for day, title, hours in rows if hours]
    periods = "；".join(f"{year} 年 {fmt_hours(h)} 小时" for year, h in hours_by_year(volunteer.id, record.issued_at))
    cert = Certificate(
        title="志愿服务记录证明", serial=record.serial, issuer=record.issuer,
        issued_on=record.issued_at.astimezone(LOCAL_TZ).date(),
        verify_url=external_url("p_volunteer.verify", serial=record.serial),
        rows=[("姓名", volunteer.name), ("证件号码", f"居民身份证 {mask_id_card(volunteer.id_card)}"),
              ("志愿者编号", f"ZYZ{volunteer.id:06d}"),
              ("累计志愿服务时长", f"{fmt_hours(record.total_hours)} 小时"),
              ("星级", f"{stars_for(record.total_hours)} 星"),
              ("分时段时长", periods or "—")],
        body="兹证明该志愿者在本单位登记的志愿服务记录如下。服务时长为实际服务时间，不含往返交通时间。",
        table=table if len(table) > 1 else (),
    )
    return certificate_pdf(cert)
