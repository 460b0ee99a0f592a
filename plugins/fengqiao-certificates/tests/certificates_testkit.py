"""Helpers shared by the certificates plugin's tests (a uniquely named module: every
plugin's tests share one pytest session, so ``conftest``/``test_*`` names must not collide)."""

from __future__ import annotations

import io

import pytest
from fengqiao.sdk.testing import submit_form

LANYUE = "339901001001"  # 揽月社区
RESIDENT = {"applicant_name": "王小明", "applicant_id_card": "33990119900101123X",
            "applicant_mobile": "13800138000", "purpose": "子女入学"}


def request_certificate(app, certificate: str, org: str = LANYUE, **extra) -> dict:
    """A resident's anonymous request (fresh client); returns {case_number, tracking_code}."""
    return submit_form(app.test_client(), "certificate-request",
                       {**RESIDENT, "certificate": certificate, **extra}, org=org)


def decode_qr(pdf: bytes) -> str:
    """The text of the one QR code in a PDF (needs the plugin's ``test`` extra)."""
    pypdf = pytest.importorskip("pypdf", reason="pip install fengqiao-certificates[test] to decode the QR")
    zxingcpp = pytest.importorskip("zxingcpp", reason="pip install fengqiao-certificates[test] to decode the QR")
    images = [image.image for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    found = [r.text for image in images for r in zxingcpp.read_barcodes(image)]
    assert len(found) == 1
    return found[0]
