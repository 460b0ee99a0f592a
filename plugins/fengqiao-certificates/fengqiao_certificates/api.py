"""JSON routes under ``/api/v1/p/certificates/`` (both public: lists are posted publicly and
a certificate's verification code is printed on it)."""

from __future__ import annotations

from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.web import document, public, query, rate_limited
from flask import Blueprint, request

from fengqiao_certificates.issuing import by_verify_code, public_view
from fengqiao_certificates.lists import effective_items
from fengqiao_certificates.models import KINDS

api = Blueprint("certificates_api", __name__)


@api.get("/items")
@public
def items():
    code = (request.args.get("org") or "").strip()
    kind = (request.args.get("kind") or "").strip() or None
    errors = []
    if not code:
        errors.append(("/org", "请指定社区（村）代码 org", "required"))
    if kind is not None and kind not in KINDS:
        errors.append(("/kind", "kind 只能是 may_issue 或 must_not_issue", "enum"))
    if errors:
        raise ValidationFailed(errors)
    unit = org_unit(code)
    if unit is None or unit.kind != "territorial":
        raise APIError(404, [("/org", f"未找到单位 {code}", "not_found")])
    return {"items": [i.to_json() for i in effective_items(unit.code, kind)]}


document(
    "/p/certificates/items", "get", "某社区（村）现行的证明事项清单（含上级清单）", tag="certificates",
    params=[query("org", "社区（村）代码", {"type": "string"}),
            query("kind", "may_issue（可以出具）或 must_not_issue（不应出具）",
                  {"type": "string", "enum": list(KINDS)})],
    responses={200: "{items: [{id, name, kind, referral?, time_limit_days?}]}", 404: "单位不存在",
               422: "缺少 org 或 kind 无效"},
    secured=False,
)


@api.get("/verify/<code>")
@public
@rate_limited("track", methods=("GET",))
def verify(code: str):
    """By the random verification code only: a (sequential) serial is a 404 like any wrong code."""
    cert = by_verify_code(code)
    if cert is None:
        raise APIError(404, [("/code", "未找到该核验码对应的证明，请核对证明上的 16 位核验码", "not_found")])
    return public_view(cert)


document(
    "/p/certificates/verify/{code}", "get", "凭证明上的 16 位核验码核验证明（持证人及文字内容脱敏）",
    tag="certificates",
    responses={200: "{valid, name, holder, serial, issued_at, issued_on, issuer, revoked_at, revoke_reason}",
               404: "核验码不存在（证明编号不能用于核验）"},
    secured=False,
)
