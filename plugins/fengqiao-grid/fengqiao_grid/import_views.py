"""The import's routes: the page ``/p/grid/import`` (upload → result table), its template
download, and ``POST /api/v1/p/grid/people/import`` (multipart, field ``file``).

They are added to the plugin's two blueprints from here, so the import stays one module of its
own (``GridPlugin.blueprint`` / ``api_blueprint`` import this module before returning them).
An upload larger than :data:`importer.MAX_BYTES` is refused by its declared length (413)
before a byte of it is read; anything else wrong is a 422 listing every problem.
"""

from __future__ import annotations

from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.files import xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.web import current_user, document, render, requires
from flask import request

from fengqiao_grid import address_import, importer
from fengqiao_grid.access import MANAGE, my_grids
from fengqiao_grid.api import TAG, api
from fengqiao_grid.pages import pages


@pages.app_template_global("grid_can")
def grid_can(permission: str) -> bool:
    """Whether the signed-in person holds ``permission`` (for macros imported without the
    template's context, such as the plugin's tab bar)."""
    return bool(current_user.is_authenticated and current_user.can(permission))


TOO_LARGE = f"文件过大：最大 {importer.MAX_BYTES >> 20} MB，请拆分后分批导入"


def _upload() -> tuple[bytes, str]:
    """The uploaded file's bytes, refused by size before reading (413) or when absent (422)."""
    if request.content_length is not None and request.content_length > importer.MAX_BYTES + 64 * 1024:
        raise APIError(413, [("/file", TOO_LARGE, "too_large")])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed([("/file", "请选择要导入的 Excel 文件（.xlsx）", "required")])
    content = upload.read(importer.MAX_BYTES + 1)
    if len(content) > importer.MAX_BYTES:
        raise APIError(413, [("/file", TOO_LARGE, "too_large")])
    return content, upload.filename


@api.post("/people/import")
@requires(MANAGE)
def import_people_api():
    content, filename = _upload()
    return importer.import_people(content, filename, current_user.username).as_json(), 201


document("/p/grid/people/import", "post",
         "从 Excel 导入实有人口（multipart，字段 file；逐行校验，有任何问题则一行都不导入）", tag=TAG,
         responses={201: "{imported, households_created, grids}", 401: "需登录", 403: "需要 grid.manage 权限",
                    413: f"文件超过 {importer.MAX_BYTES >> 20} MB",
                    422: "逐行逐列的问题（/rows/<行号>/<列>）；/file 文件无法读取、缺少列或超过 "
                         f"{importer.MAX_ROWS:,} 行"})


@api.post("/addresses/import")
@requires(MANAGE)
def import_addresses_api():
    content, filename = _upload()
    return address_import.import_addresses(content, filename, current_user.username), 201


document("/p/grid/addresses/import", "post",
         "从 Excel 导入标准地址（multipart，字段 file；每行一户：网格编码、小区、楼栋、单元、户；已有的不重复生成；"
         "有任何问题则一行都不导入）", tag=TAG,
         responses={201: "{created, existing, rooms}", 401: "需登录", 403: "需要 grid.manage 权限",
                    413: f"文件超过 {importer.MAX_BYTES >> 20} MB",
                    422: "逐行逐列的问题（/rows/<行号>/<列>，网格不在辖区内也在此列出）；/file 文件无法读取、缺少列或超过 "
                         f"{address_import.MAX_ROWS:,} 行"})


def _page(problems=None, result=None, status: int = 200, addresses=None):
    columns = [(header, "必填" if required else "选填", help_) for _k, header, required, help_ in importer.COLUMNS]
    return render("grid/import.html", columns=columns, problems=problems, result=result, addresses=addresses,
                  address_columns=address_import.COLUMNS, max_rows=importer.MAX_ROWS,
                  max_mb=importer.MAX_BYTES >> 20, grids=my_grids(MANAGE)), status


def _problem_rows(problems, labels: dict | None = None) -> list[tuple[str, str, str]]:
    """(row, column, message) for the result table."""
    labels = labels or importer.LABEL
    out = []
    for pointer, message, _code in problems:
        parts = pointer.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "rows":
            row, column = parts[1], labels.get(parts[2], parts[2])
            message = message.split("：", 1)[1] if "：" in message else message
        else:
            row, column = "", ""
        out.append((row, column, message))
    return out


@pages.get("/import")
@requires(MANAGE)
def import_page():
    return _page()


@pages.post("/import")
@requires(MANAGE)
def import_upload():
    try:
        content, filename = _upload()
        result = importer.import_people(content, filename, current_user.username)
    except ValidationFailed as refused:
        db.rollback()
        return _page(problems=_problem_rows(refused.problems), status=422)
    except APIError as refused:
        if refused.status != 413:
            raise
        db.rollback()
        return _page(problems=_problem_rows(refused.problems), status=413)
    return _page(result=result)


@pages.post("/import/addresses")
@requires(MANAGE)
def import_addresses_upload():
    try:
        content, filename = _upload()
        made = address_import.import_addresses(content, filename, current_user.username)
    except ValidationFailed as refused:
        db.rollback()
        return _page(problems=_problem_rows(refused.problems, address_import.LABEL), status=422)
    except APIError as refused:
        if refused.status != 413:
            raise
        db.rollback()
        return _page(problems=_problem_rows(refused.problems), status=413)
    return _page(addresses=made)


@pages.get("/import/addresses-template.xlsx")
@requires(MANAGE)
def import_addresses_template():
    return xlsx_response("标准地址导入模板.xlsx", address_import.template_bytes())


@pages.get("/import/template.xlsx")
@requires(MANAGE)
def import_template():
    return xlsx_response("实有人口导入模板.xlsx", importer.template_bytes())
