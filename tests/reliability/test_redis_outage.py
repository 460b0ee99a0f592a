"""Redis stopped: submissions still succeed and their jobs wait in the outbox; Redis back on
the same port: the sweep dispatches them and a real worker drains them."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from fengqiao import signals
from fengqiao.db import db
from fengqiao.jobs import enqueue
from fengqiao.jobs.sweep import redispatch_stale
from fengqiao.models import JobRecord
from fengqiao.testing.plugin import TEST_SECRET

GOOD_REQUEST = {
    "request_type": "complaint",
    "summary": "湖滨路烧烤店夜间油烟噪音扰民",
    "content": "每晚十点后油烟和噪音很大。",
    "caller_name": "陈德福",
    "caller_mobile": "13800138000",
    "id_card": "339901195203140111",
}


@pytest.fixture
def app_config(redis_proc):
    return {"redis_url": redis_proc.url}


@pytest.fixture
def notify_on_create(demo):
    """What a notification plugin does: a job per new case, committed with the request."""

    def _created(sender, case_number, **_kw):
        enqueue("cases.notify", case_number=case_number, event="created",
                message=f"事项 {case_number} 已受理", recipients=["reporter"])
        db.commit()

    signals.case_created.connect(_created, sender=demo, weak=False)
    yield demo
    signals.case_created.disconnect(_created, sender=demo)


def _notify_jobs() -> list[JobRecord]:
    db.expire_all()
    return db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify")).all()


@pytest.mark.slow
def test_submissions_survive_redis_down_and_drain_when_it_returns(
        notify_on_create, client, redis_proc, database_url, tmp_path):
    app = notify_on_create
    queue = redis.Redis.from_url(redis_proc.url)
    redis_proc.stop()

    response = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST)
    assert response.status_code == 201, response.get_data(as_text=True)
    number = response.get_json()["case_number"]
    app.extensions["fengqiao.dispatcher"].flush()  # its push to Redis failed (logged)
    with app.app_context():
        assert [(j.status, j.args["case_number"]) for j in _notify_jobs()] == [("pending", number)]
    assert client.get("/readyz").get_json()["failing"] == ["redis"]

    redis_proc.start()  # same port, empty: whatever was queued before is gone anyway
    assert queue.llen("rq:queue:fengqiao") == 0
    with app.app_context():
        assert redispatch_stale(grace=timedelta(0)) >= 1  # what a worker's tick does
    app.extensions["fengqiao.dispatcher"].flush()
    assert queue.llen("rq:queue:fengqiao") >= 1
    assert client.get("/readyz").status_code == 200

    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_REDIS_URL": redis_proc.url,
           "FENGQIAO_PLUGINS": "", "FENGQIAO_SECRET_KEY": TEST_SECRET,
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "worker"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "fengqiao.cli", "worker", "--burst"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with app.app_context():
        jobs = _notify_jobs()
        assert [(j.status, j.attempts, j.result) for j in jobs] == [("done", 1, {"recipients": 1})]
