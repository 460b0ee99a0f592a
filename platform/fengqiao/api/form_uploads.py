"""One file for a form's upload field, ahead of the JSON submission that names it.

The JSON submission (``api/forms.py``) carries attachment ids, not bytes: a phone that queued
a form with photos while offline (``static/offline-queue.js``) uploads each photo here
first, keeps the id it gets, and then sends the submission with its ``Idempotency-Key``. A
resend after a lost answer therefore names the same ids (the same content, so the same key
replays the same case). An uploaded file belongs to nothing until a submission claims it.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import public
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.forms import store
from fengqiao.forms.render import compiled_form
from fengqiao.forms.uploads import save_upload
from fengqiao.params import int_arg, parse_int
from fengqiao.ratelimit import enforce

NOT_A_FILE_FIELD = "该字段不是上传字段"


def _upload_spec(specs, pointer: str):
    """The file/image field ``pointer`` names (``/photos``, ``/parties/0/photos``), or None."""
    spec = None
    for token in pointer.strip("/").split("/"):
        if parse_int(token) is not None and spec is not None and spec.kind == "group":
            continue  # a row of a repeatable group
        spec = next((s for s in specs if s.name == token), None)
        if spec is None:
            return None
        specs = spec.children
    return spec if spec is not None and spec.kind in ("file", "image") else None


@api_bp.post("/forms/<key>/uploads")
@public
def upload_form_file(key: str):
    user = current_user._get_current_object()
    number = int_arg("version", minimum=1, message="version 应为正整数")
    version = store.require_usable(key, user, number)
    pointer = request.form.get("pointer", "")
    spec = _upload_spec(compiled_form(version).specs, pointer) if pointer.startswith("/") else None
    if spec is None:
        raise APIError(422, [("/pointer", NOT_A_FILE_FIELD, "pointer")])
    file = request.files.get("file")
    if file is None or not file.filename:
        raise APIError(422, [(pointer, "请选择要上传的文件", "required")])
    enforce("public_upload")  # anonymous callers only: staff sessions and tokens pass
    saved = save_upload(file, pointer, spec.kind == "image", user)
    if isinstance(saved, tuple):
        raise APIError(422, [saved])
    return {"id": saved.id, "filename": saved.filename, "content_type": saved.content_type}, 201


document("/forms/{key}/uploads", "post", "上传表单附件（离线待上传的照片先逐个上传，再以附件编号提交）", secured=False,
         body={"type": "object", "description": "multipart/form-data：file（文件）、pointer（字段位置，如 /photos）"},
         params=[query("version", "按指定版本的字段定义", {"type": "integer"})],
         responses={201: "{id, filename, content_type}", 401: "工作人员表单需登录", 404: "表单不存在",
                    410: "表单已停用", 413: "文件过大", 422: "不是上传字段、未选文件或文件类型不支持",
                    429: "请求过于频繁"})
