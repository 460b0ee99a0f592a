"""Published forms and submissions over the API."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import public
from fengqiao.api import api_bp, json_body
from fengqiao.errors import APIError
from fengqiao.forms import store
from fengqiao.forms.submit import submit
from fengqiao.ratelimit import enforce

JSON_BODY_LIMIT = 1024 * 1024  # form data is text; files go through uploads


def _version_param() -> int | None:
    raw = request.args.get("version")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise APIError(422, [("/version", "version 应为正整数", "type")])
    return int(raw)


@api_bp.get("/forms")
@public
def list_forms():
    return [
        {"key": f.key, "title": f.title, "version": f.latest_version, "access": f.access}
        for f in store.usable_forms(current_user)
    ]


@api_bp.get("/forms/<key>")
@public
def show_form(key: str):
    version = store.require_usable(key, current_user, _version_param())
    d = version.definition
    return {
        "key": d["key"], "title": d["title"], "version": version.number,
        "access": d["access"], "case_type": d.get("case_type"),
        "schema": d["schema"], "ui": d.get("ui", {}),
    }


@api_bp.post("/forms/<key>/submissions")
@public
def create_submission(key: str):
    version = store.require_usable(key, current_user, _version_param())
    if request.content_length is not None and request.content_length > JSON_BODY_LIMIT:
        raise APIError(413)
    data = json_body()
    if not isinstance(data, dict):
        raise APIError(422, [("", "提交内容应为 JSON 对象", "type")])
    if version.definition["access"] == "public":
        enforce("public_submit")
    key_header = request.headers.get("Idempotency-Key")
    if key_header is not None and not (1 <= len(key_header) <= 128):
        raise APIError(422, [("/Idempotency-Key", "Idempotency-Key 长度应为 1–128", "maxLength")])
    result = submit(version, data, current_user, "api", request.args.get("org"), key_header)
    case = result.case
    return {"case_number": case.number, "tracking_code": case.tracking_code}, 200 if result.replayed else 201
