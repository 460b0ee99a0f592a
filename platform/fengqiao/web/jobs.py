"""A job's progress page and its download (exports and other long jobs started by a user)."""

from __future__ import annotations

from flask import abort, render_template, send_file
from flask_login import current_user

from fengqiao.access import login_required
from fengqiao.jobs import files_dir
from fengqiao.jobs.status import job_for, status_json
from fengqiao.web.blueprint import web_bp


@web_bp.get("/jobs/<int:job_id>")
@login_required
def job_status(job_id: int):
    record = job_for(job_id, current_user)
    if record is None:
        abort(404)
    return render_template("jobs/status.html", job=status_json(record))


@web_bp.get("/jobs/<int:job_id>/download")
@login_required
def job_download(job_id: int):
    record = job_for(job_id, current_user)
    result = (record.result or {}) if record else {}
    if record is None or record.status != "done" or not result.get("file"):
        abort(404)
    path = files_dir() / result["file"]
    if path.parent != files_dir() or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=result.get("filename") or path.name)
