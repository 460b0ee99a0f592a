"""Anonymous public submissions: every request that stores anything is rate-limited (an
extra field such as ``_row=x`` used to skip the limit while still storing files and the case),
each stored file counts against ``public_upload``, and uploads nobody claimed are removed
by a periodic job."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from fengqiao.db import db, utcnow
from fengqiao.models import Attachment, Case
from fengqiao.testing.plugin import csrf_token

URL = "/forms/livelihood-request"
COMPLETE = {"fq_version": "1", "request_type": "help", "summary": "停水", "content": "停水一天",
            "caller_name": "陈德福", "caller_mobile": "13800138000"}
INCOMPLETE = {"fq_version": "1", "request_type": "help", "caller_name": "陈德福"}
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # counters are in memory


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def _count(app, model) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count()).select_from(model))


def _post(client, token, fields, photos=0):
    data = {"csrf_token": token, **fields}
    if photos:
        data["photos"] = [(io.BytesIO(_png()), f"{i}.png") for i in range(photos)]
    return client.post(URL, content_type="multipart/form-data", data=data)


@SQLITE
@pytest.mark.parametrize("app_config", [{"rate_limits": {"public_submit": "3/minute"}}])
def test_an_extra_field_does_not_skip_the_limit(client, demo, app_config):
    token = csrf_token(client, URL)
    statuses = [_post(client, token, {**COMPLETE, "_row": "x"}).status_code for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    assert _count(demo, Case) == 3


@SQLITE
@pytest.mark.parametrize("app_config", [{"rate_limits": {"public_submit": "3/minute"}}])
def test_a_request_that_only_stores_files_is_counted(client, demo, app_config):
    token = csrf_token(client, URL)
    statuses = [_post(client, token, {**INCOMPLETE, "_row": "add:photos"}, photos=1).status_code
                for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert _count(demo, Attachment) == 3


@SQLITE
@pytest.mark.parametrize("app_config", [{"rate_limits": {"public_upload": "4/minute"}}])
def test_each_file_counts_against_the_upload_limit(client, demo, login_as, app_config):
    token = csrf_token(client, URL)
    assert _post(client, token, INCOMPLETE, photos=3).status_code == 422
    refused = _post(client, token, INCOMPLETE, photos=2)
    assert refused.status_code == 429 and "操作过于频繁" in refused.get_data(as_text=True)
    assert _count(demo, Attachment) == 3  # the refused request stored nothing
    login_as("zhangmin")  # staff are not limited
    token = csrf_token(client, URL)
    assert _post(client, token, INCOMPLETE, photos=3).status_code == 422
    assert _count(demo, Attachment) == 6


@SQLITE
def test_abandoned_uploads_are_removed_by_the_periodic_job(app, demo, login_as):
    from werkzeug.datastructures import FileStorage

    from fengqiao.forms import abandoned
    from fengqiao.forms.uploads import save_upload, upload_root
    from fengqiao.jobs.registry import CORE_JOBS, PERIODIC
    from fengqiao.models import User

    assert "uploads.prune_abandoned" in CORE_JOBS and "uploads.prune_abandoned" in PERIODIC
    now = utcnow()
    with app.test_request_context():
        staff = db.scalar(sa.select(User).where(User.username == "zhangmin"))

        def upload(age: timedelta, user=None) -> Attachment:
            saved = save_upload(FileStorage(io.BytesIO(_png()), "现场.png"), "/photos", True, user)
            saved.created_at = now - age
            return saved

        fresh = upload(timedelta(hours=2))
        stale = upload(abandoned.ANONYMOUS_KEEP + timedelta(hours=1))
        staff_draft = upload(abandoned.ANONYMOUS_KEEP + timedelta(hours=1), staff)
        staff_stale = upload(abandoned.SIGNED_IN_KEEP + timedelta(hours=1), staff)
        claimed = upload(timedelta(days=400))
        db.flush()
        ids = {a.id: a.storage_key for a in (fresh, stale, staff_draft, staff_stale, claimed)}
        db.commit()
    number = client_submit_claiming(app, claimed.id)
    root = Path(app.instance_path) / "uploads"
    with app.app_context():
        assert upload_root() == root
        assert abandoned.prune_abandoned() == {"deleted": 2}
        db.commit()  # as the job runner does: the files go once the rows are gone for good
        left = set(db.scalars(sa.select(Attachment.id).where(Attachment.id.in_(ids))))
        assert left == {fresh.id, staff_draft.id, claimed.id}
        assert db.scalar(sa.select(Case.number).where(Case.number == number))
        assert abandoned.prune_abandoned() == {"deleted": 0}  # idempotent
    for attachment_id, key in ids.items():
        assert (root / key).is_file() == (attachment_id in left), attachment_id


def client_submit_claiming(app, attachment_id: str) -> str:
    """Submit the public form through the web with ``attachment_id`` kept; the case number."""
    client = app.test_client()
    token = csrf_token(client, URL)
    response = client.post(URL, data={"csrf_token": token, **COMPLETE, "photos__kept": attachment_id})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        return db.scalar(sa.select(Case.number).order_by(Case.id.desc()).limit(1))
