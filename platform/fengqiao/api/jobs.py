"""``GET /api/v1/jobs/<id>``: the status and progress of a job the caller started."""

from __future__ import annotations

from flask_login import current_user

from fengqiao.access import login_required
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document
from fengqiao.errors import APIError
from fengqiao.jobs.status import job_for, status_json


@api_bp.get("/jobs/<int:job_id>")
@login_required
def show_job(job_id: int):
    record = job_for(job_id, current_user)
    if record is None:
        raise APIError(404)
    return status_json(record)


document("/jobs/{job_id}", "get", "后台任务（如大批量导出）的状态与进度",
         responses={200: "{id, name, status, status_title, progress, total, percent, download, filename}",
                    401: "未登录", 404: "不存在或不是本人发起的任务"})
