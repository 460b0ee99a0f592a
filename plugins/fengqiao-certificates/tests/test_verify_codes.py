"""Verification by an unguessable code, showing masked data only (issue 17, finding 7).

Serials are sequential (``ZM<unit>-2026-000001``): anyone could walk them on the anonymous
verify endpoint and read each certificate's title and revocation reason unmasked (names,
mobiles, ID numbers typed there). The serial stays on the paper for people; verification
now takes a random 16-character code printed beside the QR code, and serial URLs are 404.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pytest
from certificates_testkit import decode_qr, request_certificate
from fengqiao.sdk.models import db

from fengqiao_certificates.issuing import issue, pdf_bytes, revoke

pytestmark = pytest.mark.plugins("certificates")
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PERSONAL = ("王小明", "13900139000", "33990119900101123X", "110105199003071234")


def _issued(app, certificate: str = "实际居住证明") -> dict:
    sent = request_certificate(app, certificate)
    with app.app_context():
        cert = issue(sent["case_number"], "shenli")
        return {"serial": cert.serial, "code": getattr(cert, "verify_code", None), "id": cert.id, **sent}


@sqlite_only
def test_serial_urls_no_longer_verify_and_say_nothing(demo_lists):
    app = demo_lists
    first, second = _issued(app), _issued(app)
    assert first["serial"].endswith("-000001") and second["serial"].endswith("-000002")
    anonymous = app.test_client()
    for serial in (first["serial"], second["serial"]):
        page = anonymous.get(f"/p/certificates/verify/{serial}")
        api = anonymous.get(f"/api/v1/p/certificates/verify/{serial}")
        assert page.status_code == 404 and api.status_code == 404
        text = page.get_data(as_text=True) + api.get_data(as_text=True)
        assert "实际居住证明" not in text and "王**" not in text
        assert "核验码" in page.get_data(as_text=True)  # the page asks for the code instead


@sqlite_only
def test_codes_are_random_printed_and_the_qr_points_at_them(demo_lists):
    app = demo_lists
    certs = [_issued(app) for _ in range(3)]
    codes = [c["code"] for c in certs]
    assert len(set(codes)) == 3
    for cert in certs:
        assert re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{16}", cert["code"])
        assert cert["serial"] not in cert["code"]
    with app.app_context():
        from fengqiao_certificates.models import IssuedCertificate

        pdf = pdf_bytes(db.get(IssuedCertificate, certs[0]["id"]))
    url = decode_qr(pdf)
    assert urlparse(url).path == f"/p/certificates/verify/{codes[0]}"
    anonymous = app.test_client()
    page = anonymous.get(urlparse(url).path)
    assert page.status_code == 200 and "有效证明" in page.get_data(as_text=True)
    body = anonymous.get(f"/api/v1/p/certificates/verify/{codes[0]}").get_json()
    assert body["valid"] is True and body["serial"] == certs[0]["serial"] and body["holder"] == "王**"
    # typed by hand from the paper: grouped, lower case, spaces
    typed = "-".join(codes[1][i:i + 4] for i in range(0, 16, 4)).lower()
    found = anonymous.get(f"/p/certificates/verify?code= {typed} ")
    assert found.status_code == 200 and certs[1]["serial"] in found.get_data(as_text=True)
    assert anonymous.get("/p/certificates/verify").status_code == 200  # the form
    wrong = anonymous.get(f"/p/certificates/verify/{'2' * 16}")
    assert wrong.status_code == 404 and "未找到" in wrong.get_data(as_text=True)


@sqlite_only
def test_the_public_answer_masks_title_and_revocation_reason(demo_lists):
    app = demo_lists
    cert = _issued(app, "王小明 13900139000 的家庭收入情况说明")  # not on the list: typed title
    with app.app_context():
        from fengqiao_certificates.models import IssuedCertificate

        revoke(db.get(IssuedCertificate, cert["id"]),
               "王小明（身份证 110105199003071234，电话 13900139000）提供虚假材料", "shenli")
    anonymous = app.test_client()
    body = anonymous.get(f"/api/v1/p/certificates/verify/{cert['code']}").get_json()
    page = anonymous.get(f"/p/certificates/verify/{cert['code']}").get_data(as_text=True)
    assert body["valid"] is False
    for value in PERSONAL:
        assert value not in str(body) and value not in page, value
    assert body["revoke_reason"] == "王**（身份证 110105********1234，电话 139****9000）提供虚假材料"
    assert "139****9000" in body["name"] and "王**" in body["name"]


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_migration_gives_existing_certificates_a_code(empty_database_url):
    """Certificates issued before the codes existed get one each (their old QR links, to
    the serial, no longer verify: staff reprint the PDF)."""
    import sqlalchemy as sa
    from fengqiao.migrate import upgrade

    engine = sa.create_engine(empty_database_url)
    try:
        upgrade(engine, "certificates_0001")
        row = {"case_number": "ZM-1", "org_code": "339901001001", "year": 2026, "issuer_name": "揽月社区",
               "item_name": "实际居住证明", "holder_name": "王小明", "holder_id_card": "", "purpose": "", "body": "",
               "issued_on": date(2026, 1, 5), "issued_at": datetime(2026, 1, 5, 8, tzinfo=UTC)}
        with engine.begin() as conn:
            for n in (1, 2):
                conn.execute(sa.text(
                    "INSERT INTO certificates_issued (serial, case_number, org_code, year, sequence, issuer_name, "
                    "item_name, holder_name, holder_id_card, purpose, body, issued_on, issued_at) VALUES (:serial, "
                    ":case_number, :org_code, :year, :sequence, :issuer_name, :item_name, :holder_name, "
                    ":holder_id_card, :purpose, :body, :issued_on, :issued_at)"),
                    {**row, "serial": f"ZM339901001001-2026-{n:06d}", "case_number": f"ZM-{n}", "sequence": n})
        upgrade(engine)
        with engine.connect() as conn:
            codes = list(conn.scalars(sa.text("SELECT verify_code FROM certificates_issued")))
        assert len(codes) == 2 and len(set(codes)) == 2
        assert all(re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{16}", c) for c in codes)
    finally:
        engine.dispose()
