"""Public pages (公示, verification, download) under ``/p/certificates/``.

Staff pages live in ``admin_views`` (lists) and ``staff_views`` (issued, unlisted, metrics);
all are registered on the one blueprint ``pages``.
"""

from __future__ import annotations

from fengqiao.sdk.cases import case_info, tracking_matches
from fengqiao.sdk.files import qr_data_uri
from fengqiao.sdk.orgs import org_unit, org_units
from fengqiao.sdk.web import external_url, public, rate_limited, render
from flask import Blueprint, Response, request

from fengqiao_certificates.issuing import (
    by_case,
    by_verify_code,
    grouped,
    issue,
    pdf_bytes,
    public_view,
)
from fengqiao_certificates.lists import chain, effective_items, in_force, jurisdiction_name
from fengqiao_certificates.models import MAY_ISSUE, MUST_NOT_ISSUE

pages = Blueprint("certificates", __name__)


def communities():
    return [u for u in org_units() if u.kind == "territorial" and u.level == "community"]


@pages.get("/")
@public
def posting():
    """公示: the lists in force for one community, for phones, print and a QR poster."""
    code = (request.args.get("org") or "").strip()
    unit = org_unit(code) if code else None
    if code and (unit is None or unit.kind != "territorial"):
        return render("certificates/posting.html", choices=communities(), unit=None, code=code,
                      error="未找到该社区（村），请重新选择"), 404
    if unit is None:
        return render("certificates/posting.html", choices=communities(), unit=None, code="", error=None)
    sources = [(c, in_force(c)) for c in chain(unit.code)]
    items = effective_items(unit.code)
    url = external_url("p_certificates.posting", org=unit.code)
    return render("certificates/posting.html", choices=communities(), unit=unit, code=unit.code, error=None,
                  may=[i for i in items if i.kind == MAY_ISSUE], must_not=[i for i in items if i.kind == MUST_NOT_ISSUE],
                  sources=[(jurisdiction_name(c), v) for c, v in sources if v is not None],
                  qr=qr_data_uri(url), url=url)


@pages.get("/verify")
@public
@rate_limited("track", methods=("GET",))
def verify_form():
    """The form to type the code printed on the paper (``?code=`` answers it)."""
    typed = (request.args.get("code") or "").strip()
    return _verified(typed) if typed else render("certificates/verify.html", cert=None, typed="")


@pages.get("/verify/<code>")
@public
@rate_limited("track", methods=("GET",))
def verify_page(code: str):
    """The QR code's link. A serial is not a code: old serial links get the same 404 as a
    wrong code, so serials cannot be walked."""
    return _verified(code)


def _verified(typed: str):
    cert = by_verify_code(typed)
    if cert is None:
        return render("certificates/verify.html", cert=None, typed=typed[:40], missing=True), 404
    return render("certificates/verify.html", cert=public_view(cert), typed=grouped(cert.verify_code))


@pages.route("/download", methods=["GET", "POST"])
@public
@rate_limited("track")
def download():
    """The resident fetches their certificate with the case number and 查询码."""
    if request.method == "GET":
        return render("certificates/download.html", error=None, number="")
    number = (request.form.get("number") or "").strip().upper()
    code = (request.form.get("code") or "").strip()
    errors = {}
    if not number:
        errors["number"] = "请填写事项编号"
    if not code:
        errors["code"] = "请填写查询码"
    if errors:
        return render("certificates/download.html", error=None, errors=errors, number=number), 422
    cert = None
    if tracking_matches(number, code):
        cert = by_case(number)
        info = case_info(number)
        if cert is None and info and info["type"] == "certificate_request" and info["state"] == "issued":
            cert = issue(number)  # approved while issuing failed: issue it now (idempotent)
    if cert is None:
        return render("certificates/download.html", errors={},
                      error="未找到可下载的证明：请核对事项编号和查询码，或该申请尚未出具证明", number=number), 404
    return pdf_response(cert)


def pdf_response(cert) -> Response:
    response = Response(pdf_bytes(cert), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename={cert.serial}.pdf"
    return response


from fengqiao_certificates import admin_views, staff_views  # noqa: E402,F401  (routes on ``pages``)
