"""What a user may see of a job: their own jobs (admins: any), as JSON for the watchers."""

from __future__ import annotations

from fengqiao.db import db
from fengqiao.models import JobRecord

STATUS_TITLES = {"pending": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


def job_for(job_id: int, user) -> JobRecord | None:
    """The job if ``user`` started it (or is an admin); None otherwise (answered 404)."""
    record = db.get(JobRecord, job_id)
    if record is None or record.owner_id is None:
        return None
    if record.owner_id != user.id and not user.can("plugins.manage"):
        return None
    return record


def status_json(record: JobRecord) -> dict:
    percent = None
    if record.total:
        percent = min(100, round(100 * record.progress / record.total))
    elif record.status == "done":
        percent = 100
    result = record.result or {}
    return {"id": record.id, "name": record.name, "status": record.status,
            "status_title": STATUS_TITLES.get(record.status, record.status),
            "progress": record.progress, "total": record.total, "percent": percent,
            "download": bool(result.get("file")) and record.status == "done",
            "filename": result.get("filename"), "error": "任务执行失败，请稍后重试或联系管理员"
            if record.status == "failed" else None}
